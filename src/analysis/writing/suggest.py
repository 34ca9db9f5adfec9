"""Policy suggestions from findings, by rules that staff edit in YAML, not code.

A rule (see ``resources/rules.yaml``, the defaults) says *when* it applies — a
condition on named facts of the findings (:mod:`analysis.findings.facts`) such as
``difficulty.financing.share >= 0.30 or difficulty.financing.change.significant`` —
how important it is, which departments it concerns, which facts are its evidence, and
what to write, in Chinese and English (Jinja2 templates that print numbers only
through the fact filters, so every number in a draft comes from the findings).

A user's rules file adds rules and replaces default rules of the same ``id``
(``enabled: false`` switches one off). Rules are checked when they are loaded: an
unknown fact name, a condition that is not a valid expression, a template with a
syntax error or an unknown department stops with a :class:`~analysis.errors.RuleError`
that names the file, the rule and the fix. A rule whose facts are missing or
suppressed does not fire: no suggestion without its evidence.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import RuleError
from analysis.findings.facts import ATTRIBUTES, Fact, MissingEvidence, catalog, complete, tree
from analysis.findings.model import Findings, Text
from analysis.ingest.instrument import Instrument, load_instrument
from analysis.writing import plain, render

DEFAULT_RULES = Path(__file__).parent / "resources" / "rules.yaml"
PRIORITIES = {"high": 3, "medium": 2, "low": 1}
REQUIRED = (
    "id",
    "topic",
    "priority",
    "when",
    "evidence",
    "departments",
    "title",
    "problem",
    "actions",
)
OPTIONAL = ("rank_by", "causes", "enabled", "category")
FUNCTIONS = {"abs": abs, "min": min, "max": max}
ACTION_KEYS = ("zh", "en", "departments", "cites")


@dataclass(frozen=True)
class Action:
    """One suggested action: its text, the departments to carry it out (codes; default
    the rule's) and the policy documents it rests on (ids of the office profile)."""

    text: Text
    departments: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()

    @property
    def zh(self) -> str:
        return self.text.zh

    @property
    def en(self) -> str:
        return self.text.en

    def get(self, lang: str = "zh") -> str:
        return self.text.get(lang)

    def to_dict(self) -> dict:
        return {
            **self.text.model_dump(),
            "departments": list(self.departments),
            "cites": list(self.cites),
        }


@dataclass(frozen=True)
class Rule:
    id: str
    topic: Text
    priority: str
    when: str
    rank_by: str | None
    evidence: tuple[str, ...]
    departments: tuple[str, ...]
    title: Text
    problem: Text
    causes: Text | None
    actions: tuple[Action, ...]
    source: str
    category: str | None = None  # the difficulty / request category the rule is about


@dataclass(frozen=True)
class Suggestion:
    """A rule that fired, with its evidence and its text rendered in zh and en.

    ``problem`` and ``causes`` are in the full register (intervals, tests);
    ``plain_problem`` and ``plain_causes`` say the same for leaders (see
    :mod:`analysis.writing.render`). ``departments`` are codes: a draft names them as
    its office profile does. ``traces`` are the plain phrases the texts print, with the
    facts they came from, for the number audit.
    """

    rule: str
    priority: str
    score: float
    topic: Text
    title: Text
    problem: Text
    causes: Text | None
    actions: tuple[Action, ...]
    departments: tuple[str, ...]
    evidence: tuple[Fact, ...]
    condition: str
    category: str | None = None
    plain_problem: Text | None = None
    plain_causes: Text | None = None
    traces: tuple = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "priority": self.priority,
            "score": self.score,
            "topic": self.topic.model_dump(),
            "title": self.title.model_dump(),
            "problem": self.problem.model_dump(),
            "causes": self.causes.model_dump() if self.causes else None,
            "actions": [a.to_dict() for a in self.actions],
            "departments": list(self.departments),
            "evidence": [
                {
                    "fact": e.path,
                    "value": e.value,
                    "ci_low": e.lo,
                    "ci_high": e.hi,
                    "n": e.n,
                    "p_adjusted": e.p,
                    "significant": e.significant,
                }
                for e in self.evidence
            ],
            "condition": self.condition,
            "category": self.category,
        }


def load_rules(path: str | Path | None = None, instrument: Instrument | None = None) -> list[Rule]:
    """The default rules, plus (and overridden by) the rules in ``path``.

    Parameters
    ----------
    path : a YAML file of rules (see ``resources/rules.yaml``); None: the defaults only.
    instrument : the questionnaire whose codes the rules name; default: the bundled one.

    Returns
    -------
    list[Rule]
        A rule with the id of a default replaces it; ``enabled: false`` drops one.

    Raises
    ------
    RuleError
        The file cannot be read, or a rule is malformed: the message names the file,
        the rule and what to change.

    Examples
    --------
    >>> [r.id for r in load_rules()][:2]  # doctest: +SKIP
    ['financing', 'enforcement']
    """
    inst = instrument or load_instrument()
    known = catalog(inst)
    departments = {c.value for c in inst.requests["department"].choices}
    categories = {str(c.value) for c in inst.requests["category"].choices}
    rules: dict[str, Rule] = {}
    sources = [DEFAULT_RULES] + ([Path(path)] if path else [])
    for source in sources:
        for raw in _read(source):
            rule_id = str(raw.get("id", "")) if isinstance(raw, dict) else ""
            if isinstance(raw, dict) and raw.get("enabled") is False:
                rules.pop(rule_id, None)
                continue
            rules[rule_id] = _check(raw, source, known, departments, categories)
    return list(rules.values())


def _read(path: Path) -> list:
    if not path.is_file():
        raise RuleError(f"rules file not found: {path}", "give the path of a rules YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleError(
            f"{path.name}: not valid YAML ({exc})",
            "fix the YAML at the line shown (indentation, quotes, colons)",
        ) from None
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        raise RuleError(f"{path.name}: no 'rules:' list", "see the default rules for the format")
    return rules


FACT_ROOTS = {
    "difficulty",
    "index",
    "item",
    "driver",
    "policy",
    "region",
    "open",
    "requests",
    "outlook",
    "n",
    "population",
}


def _text(raw, where: str, key: str, known: set[str]) -> Text:
    import jinja2
    from jinja2 import nodes

    if not isinstance(raw, dict) or not raw.get("zh") or not raw.get("en"):
        raise RuleError(f"{where}: '{key}' needs both zh and en", f"write {key}: {{zh: …, en: …}}")
    raw = {"zh": raw["zh"], "en": raw["en"]}
    for lang in ("zh", "en"):
        try:
            parsed = render.environment().parse(str(raw[lang]))
        except jinja2.TemplateSyntaxError as exc:
            raise RuleError(
                f"{where}: the {lang} text of '{key}' is not a valid template "
                f"(line {exc.lineno}: {exc.message})",
                "check the {{ … }} and {% … %} pairs",
            ) from None
        # Fact names in the text are checked like those of the condition.
        for node in parsed.find_all(nodes.Getattr):
            parts, cur = [], node
            while isinstance(cur, nodes.Getattr):
                parts.append(cur.attr)
                cur = cur.node
            if isinstance(cur, nodes.Name) and cur.name in FACT_ROOTS:
                name = ".".join([cur.name, *reversed(parts)])
                if not any(k.startswith(name + ".") for k in known):
                    _check_name(name, known, f"{where} ({key}, {lang})")
    return Text(zh=str(raw["zh"]), en=str(raw["en"]))


def _names(expression: str, where: str, field: str) -> list[str]:
    """Dotted names used in an expression, checked to be valid Python first."""
    try:
        tree_ = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise RuleError(
            f"{where}: '{field}' is not a valid expression: {exc.msg} at column "
            f"{exc.offset} in {expression!r}",
            "write conditions like: difficulty.financing.share >= 0.3 and "
            "difficulty.financing.change.significant",
        ) from None
    names = []
    for node in ast.walk(tree_):
        if isinstance(node, ast.Attribute | ast.Name):
            parts = []
            cur = node
            while isinstance(cur, ast.Attribute):
                parts.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name):
                parts.append(cur.id)
                names.append(".".join(reversed(parts)))
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        ):
            raise RuleError(
                f"{where}: '{field}' calls a function that is not allowed",
                f"only {', '.join(FUNCTIONS)} may be called",
            )
    # keep only the longest chains (ast.walk also yields their prefixes)
    return [n for n in names if not any(o != n and o.startswith(n + ".") for o in names)]


def _check_name(name: str, known: set[str], where: str) -> None:
    if name in FUNCTIONS or name in known:
        return
    head, _, attr = name.rpartition(".")
    if head in known and attr in ATTRIBUTES:
        return
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise RuleError(
        f"{where}: unknown finding '{name}'{hint}",
        "use a fact name listed in the README (Suggestion rules), e.g. difficulty.financing.share",
    )


def _check(
    raw: Any, source: Path, known: set[str], departments: set[str], categories: set[str]
) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(
            f"{source.name}: a rule must be a mapping of keys", "start each rule with '- id: …'"
        )
    where = f"{source.name}: rule '{raw.get('id', '?')}'"
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise RuleError(
            f"{where}: missing {', '.join(missing)}", f"every rule needs: {', '.join(REQUIRED)}"
        )
    unknown = [k for k in raw if k not in REQUIRED + OPTIONAL]
    if unknown:
        raise RuleError(
            f"{where}: unknown key(s) {', '.join(unknown)}",
            f"allowed keys: {', '.join(REQUIRED + OPTIONAL)}",
        )
    if raw["priority"] not in PRIORITIES:
        raise RuleError(
            f"{where}: priority {raw['priority']!r} is not one of {', '.join(PRIORITIES)}",
            "use high, medium or low",
        )
    for field in ("when", "rank_by"):
        if raw.get(field) is not None:
            for name in _names(str(raw[field]), where, field):
                _check_name(name, known, where)
    evidence = raw["evidence"]
    if not isinstance(evidence, list) or not evidence:
        raise RuleError(
            f"{where}: 'evidence' must list the facts the rule cites",
            "e.g. evidence: [difficulty.financing.share]",
        )
    for name in evidence:
        _check_name(str(name), known, where)
    category = raw.get("category", raw["id"] if raw["id"] in categories else None)
    if category is not None and category not in categories:
        raise RuleError(
            f"{where}: unknown category {category!r}",
            f"use a difficulty or request category: {', '.join(sorted(categories))}",
        )
    bad = [d for d in raw["departments"] if d not in departments]
    if bad:
        raise RuleError(
            f"{where}: unknown department(s) {', '.join(map(str, bad))}",
            f"use department codes: {', '.join(sorted(departments))}",
        )
    actions = raw["actions"]
    if not isinstance(actions, list) or not actions:
        raise RuleError(
            f"{where}: 'actions' must list at least one suggestion",
            "write actions: [{zh: …, en: …}, …]",
        )
    checked_actions = []
    for k, a in enumerate(actions, 1):
        extra = [key for key in (a if isinstance(a, dict) else {}) if key not in ACTION_KEYS]
        if extra:
            raise RuleError(
                f"{where}: action {k} has unknown key(s) {', '.join(map(str, extra))}",
                f"an action has: {', '.join(ACTION_KEYS)}",
            )
        depts = tuple(str(d) for d in (a.get("departments") or ()) if isinstance(a, dict))
        wrong = [d for d in depts if d not in departments]
        if wrong:
            raise RuleError(
                f"{where}: action {k} names unknown department(s) {', '.join(wrong)}",
                f"use department codes: {', '.join(sorted(departments))}",
            )
        cites = a.get("cites") or () if isinstance(a, dict) else ()
        if not isinstance(cites, list | tuple) or not all(isinstance(c, str) for c in cites):
            raise RuleError(
                f"{where}: action {k}: 'cites' must list document ids",
                "write cites: [private_economy_law] (ids of the office profile's documents)",
            )
        checked_actions.append(
            Action(
                _text(a, where, f"actions[{k}]", known),
                depts or tuple(raw["departments"]),
                tuple(cites),
            )
        )
    return Rule(
        id=str(raw["id"]),
        topic=_text(raw["topic"], where, "topic", known),
        priority=raw["priority"],
        when=" ".join(str(raw["when"]).split()),
        rank_by=" ".join(str(raw["rank_by"]).split()) if raw.get("rank_by") else None,
        evidence=tuple(str(e) for e in evidence),
        departments=tuple(raw["departments"]),
        title=_text(raw["title"], where, "title", known),
        problem=_text(raw["problem"], where, "problem", known),
        causes=_text(raw["causes"], where, "causes", known) if raw.get("causes") else None,
        actions=tuple(checked_actions),
        source=str(source),
        category=category,
    )


def suggest(
    findings: Findings, rules: list[Rule] | None = None, instrument: Instrument | None = None
) -> list[Suggestion]:
    """The rules that fire on these findings, most important first.

    Parameters
    ----------
    findings : the findings of one brief.
    rules : default :func:`load_rules` ().

    Returns
    -------
    list[Suggestion]
        Ordered by priority, then by the rule's ``rank_by`` value, then by id.

    Examples
    --------
    >>> findings = Findings.load("briefs/2025-all/findings.json")  # doctest: +SKIP
    >>> [s.rule for s in suggest(findings, load_rules())]  # doctest: +SKIP
    ['financing', 'enforcement', ...]
    """
    from simpleeval import SimpleEval

    inst = instrument or load_instrument()
    rules = rules if rules is not None else load_rules(instrument=inst)
    flat = complete(findings, inst)
    names = tree(flat)
    evaluator = SimpleEval(names=names, functions=FUNCTIONS)
    fired = []
    for rule in rules:
        try:
            if not evaluator.eval(rule.when):
                continue
            score = float(evaluator.eval(rule.rank_by)) if rule.rank_by else 0.0
        except MissingEvidence:
            continue
        evidence = tuple(flat[e] for e in rule.evidence if e in flat and not flat[e].missing)
        context = {**names, "_facts": flat, "findings": findings}
        with plain.recording() as traces:
            plain_problem = render.text(rule.problem, context, "plain")
            plain_causes = render.text(rule.causes, context, "plain") if rule.causes else None
            texts = {
                "title": render.text(rule.title, context),
                "problem": render.text(rule.problem, context),
                "causes": render.text(rule.causes, context) if rule.causes else None,
                "actions": tuple(
                    Action(render.text(a.text, context), a.departments, a.cites)
                    for a in rule.actions
                ),
            }
        fired.append(
            Suggestion(
                rule=rule.id,
                priority=rule.priority,
                score=score,
                topic=rule.topic,
                departments=rule.departments,
                evidence=evidence,
                condition=rule.when,
                category=rule.category,
                plain_problem=plain_problem,
                plain_causes=plain_causes,
                traces=tuple(traces),
                **texts,
            )
        )
    fired.sort(key=lambda s: (-PRIORITIES[s.priority], -s.score, s.rule))
    return fired
