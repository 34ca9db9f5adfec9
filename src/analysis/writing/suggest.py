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

import difflib
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from analysis.errors import RuleError, clip
from analysis.findings.facts import ATTRIBUTES, Fact, MissingEvidence, catalog, complete, tree
from analysis.findings.model import Findings, Text
from analysis.ingest.instrument import Instrument, load_instrument
from analysis.ingest.yamlfile import read_yaml
from analysis.writing import _rulecheck, plain, render
from analysis.writing._keyfactors import KeyFactorRule, default_rule, key_factors
from analysis.writing._keyfactors import parse as parse_key_factors

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
FUNCTIONS = _rulecheck.FUNCTIONS
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


class Rules(list):
    """The rules, a list, with the ``key_factors`` rule of the last file that has one
    (:mod:`analysis.writing._keyfactors`)."""

    key_factors: KeyFactorRule | None = None


class Suggestions(list):
    """The suggestions, a list, with the codes of the key drivers the rules call key
    factors (``key_factors``), most important first."""

    key_factors: tuple[str, ...] = ()


def load_rules(path: str | Path | None = None, instrument: Instrument | None = None) -> Rules:
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
    sources = [DEFAULT_RULES] + ([Path(path)] if path else [])
    try:  # a file changed on disk is read again
        stamp = tuple((str(s), s.stat().st_size, s.stat().st_mtime_ns) for s in sources)
    except OSError:
        stamp = None  # not found: _read says so
    key = (stamp, id(inst))
    with _lock:
        hit = _loaded.get(key) if stamp is not None else None
    if hit is not None and hit[0] is inst:
        out = Rules(hit[1])
        out.key_factors = hit[1].key_factors
        return out
    out = _load_rules(sources, inst)
    if stamp is not None:
        with _lock:
            _loaded[key] = (inst, out)  # the instrument is kept, so its id stays its own
            while len(_loaded) > 8:
                _loaded.pop(next(iter(_loaded)))
    copy = Rules(out)
    copy.key_factors = out.key_factors
    return copy


# Rules already read and checked in this process, by their files' stamps and the
# instrument: every notebook of every brief of a batch's warm kernels reads the same.
_loaded: dict = {}
_lock = threading.Lock()


def _load_rules(sources: list[Path], inst: Instrument) -> Rules:
    known = catalog(inst)
    departments = {c.value for c in inst.requests["department"].choices}
    categories = {str(c.value) for c in inst.requests["category"].choices}
    rules: dict[str, Rule] = {}
    key_rule = None
    for source in sources:
        raws, key_raw = _read(source)
        if key_raw is not None:
            key_rule = parse_key_factors(key_raw, source.name)
        for raw in raws:
            rule_id = str(raw.get("id", "")) if isinstance(raw, dict) else ""
            if isinstance(raw, dict) and raw.get("enabled") is False:
                rules.pop(rule_id, None)
                continue
            try:
                rules[rule_id] = _check(raw, source, known, departments, categories)
            except RuleError:
                if source != DEFAULT_RULES:
                    raise
                # A default rule about a question this office's questionnaire does not
                # ask (p_arrears, r_innovation …) cannot apply: it is left out, unless it
                # is broken for the bundled questionnaire too.
                _check(raw, source, *_bundled())
    out = Rules(rules.values())
    out.key_factors = key_rule
    return out


@cache
def _bundled() -> tuple[set[str], set[str], set[str]]:
    inst = load_instrument()
    return (
        catalog(inst),
        {c.value for c in inst.requests["department"].choices},
        {str(c.value) for c in inst.requests["category"].choices},
    )


def _read(path: Path) -> tuple[list, object]:
    """The file's rules, and its ``key_factors`` mapping (None when it has none)."""
    if not path.is_file():
        raise RuleError(f"rules file not found: {path}", "give the path of a rules YAML file")
    data = read_yaml(path, RuleError)
    rules = data.get("rules", []) if isinstance(data, dict) else None
    key = data.get("key_factors") if isinstance(data, dict) else None
    if not isinstance(rules, list) or (not rules and key is None):
        raise RuleError(f"{path.name}: no 'rules:' list", "see the default rules for the format")
    return rules, key


def _text(raw, where: str, key: str, known: set[str], trusted: bool) -> Text:
    import jinja2
    from jinja2 import nodes

    if not isinstance(raw, dict) or not raw.get("zh") or not raw.get("en"):
        raise RuleError(f"{where}: '{key}' needs both zh and en", f"write {key}: {{zh: …, en: …}}")
    raw = {"zh": raw["zh"], "en": raw["en"]}
    for lang in ("zh", "en"):
        if not isinstance(raw[lang], str | int | float):
            raise RuleError(
                f"{where}: the {lang} text of '{key}' is a {type(raw[lang]).__name__}, not text",
                f"write {key}: {{zh: …, en: …}} with text",
            )
        source, place = str(raw[lang]), f"{where} ({key}, {lang})"
        try:
            if trusted:  # Qifang's own rules: facts in them are checked, the rest is ours
                parsed = render.sandbox().parse(source)
                chains = map(_rulecheck.fact_chain, parsed.find_all(nodes.Getattr))
                names = [c for c in chains if c]
            else:
                names = _rulecheck.check_text(source, place, render.sandbox().parse)
        except jinja2.TemplateSyntaxError as exc:
            raise RuleError(
                f"{where}: the {lang} text of '{key}' is not a valid template "
                f"(line {exc.lineno}: {clip(exc.message, 200)})",
                "check the {{ … }} and {% … %} pairs",
            ) from None
        # Fact names in the text are checked like those of the condition.
        for name in names:
            if not any(k.startswith(name + ".") for k in known):
                _check_name(name, known, place)
    return Text(zh=str(raw["zh"]), en=str(raw["en"]))


_TYPES = {
    "id": (str, int),
    "priority": (str,),
    "when": (str, int, float, bool),
    "rank_by": (str, int, float, type(None)),
    "evidence": (list,),
    "departments": (list,),
    "actions": (list,),
    "enabled": (bool,),
    "category": (str, type(None)),
    "topic": (dict,),
    "title": (dict,),
    "problem": (dict,),
    "causes": (dict, type(None)),
}


def _check_types(raw: dict, where: str) -> None:
    """Each key's type before anything is converted to text or looked up."""
    for key, types in _TYPES.items():
        if key in raw and not isinstance(raw[key], types):
            raise RuleError(
                f"{where}: '{key}' is a {type(raw[key]).__name__} ({clip(raw[key], 60)})",
                f"see the default rules for how to write '{key}'",
            )
    for key in ("evidence", "departments"):
        for item in raw.get(key) or []:
            if not isinstance(item, str):
                raise RuleError(
                    f"{where}: '{key}' lists {clip(item, 60)}, which is not a name",
                    f"write {key}: [name, name, …]",
                )


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
    where = f"{source.name}: rule {clip(str(raw.get('id', '?')), 60)!r}"
    trusted = source == DEFAULT_RULES
    _check_types(raw, where)
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise RuleError(
            f"{where}: missing {', '.join(missing)}", f"every rule needs: {', '.join(REQUIRED)}"
        )
    unknown = [k for k in raw if k not in REQUIRED + OPTIONAL]
    if unknown:
        raise RuleError(
            f"{where}: unknown key(s) {clip(', '.join(map(str, unknown)), 200)}",
            f"allowed keys: {', '.join(REQUIRED + OPTIONAL)}",
        )
    if raw["priority"] not in PRIORITIES:
        raise RuleError(
            f"{where}: priority {clip(raw['priority'])!r} is not one of {', '.join(PRIORITIES)}",
            "use high, medium or low",
        )
    for field in ("when", "rank_by"):
        if raw.get(field) is not None:
            for name in _rulecheck.condition_names(raw[field], where, field):
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
            f"{where}: unknown category {clip(category)!r}",
            f"use a difficulty or request category: {', '.join(sorted(categories))}",
        )
    bad = [d for d in raw["departments"] if d not in departments]
    if bad:
        raise RuleError(
            f"{where}: unknown department(s) {clip(', '.join(map(str, bad)), 200)}",
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
        given = a if isinstance(a, dict) else {}  # not a mapping: _text below says so
        depts = tuple(str(d) for d in (given.get("departments") or ()))
        wrong = [d for d in depts if d not in departments]
        if wrong:
            raise RuleError(
                f"{where}: action {k} names unknown department(s) {', '.join(wrong)}",
                f"use department codes: {', '.join(sorted(departments))}",
            )
        cites = given.get("cites") or ()
        if not isinstance(cites, list | tuple) or not all(isinstance(c, str) for c in cites):
            raise RuleError(
                f"{where}: action {k}: 'cites' must list document ids",
                "write cites: [private_economy_law] (ids of the office profile's documents)",
            )
        checked_actions.append(
            Action(
                _text(a, where, f"actions[{k}]", known, trusted),
                depts or tuple(raw["departments"]),
                tuple(cites),
            )
        )
    return Rule(
        id=str(raw["id"]),
        topic=_text(raw["topic"], where, "topic", known, trusted),
        priority=raw["priority"],
        when=" ".join(str(raw["when"]).split()),
        rank_by=" ".join(str(raw["rank_by"]).split()) if raw.get("rank_by") else None,
        evidence=tuple(str(e) for e in evidence),
        departments=tuple(raw["departments"]),
        title=_text(raw["title"], where, "title", known, trusted),
        problem=_text(raw["problem"], where, "problem", known, trusted),
        causes=_text(raw["causes"], where, "causes", known, trusted) if raw.get("causes") else None,
        actions=tuple(checked_actions),
        source=str(source),
        category=category,
    )


def suggest(
    findings: Findings, rules: list[Rule] | None = None, instrument: Instrument | None = None
) -> Suggestions:
    """The rules that fire on these findings, most important first.

    Parameters
    ----------
    findings : the findings of one brief.
    rules : default :func:`load_rules` ().

    Returns
    -------
    Suggestions
        A list of Suggestion, ordered by priority, then by the rule's ``rank_by``
        value, then by id; its ``key_factors`` are the key drivers the rules'
        ``key_factors`` condition calls key factors.

    Examples
    --------
    >>> findings = Findings.load("briefs/2025-all/findings.json")  # doctest: +SKIP
    >>> [s.rule for s in suggest(findings, load_rules())]  # doctest: +SKIP
    ['financing', 'enforcement', ...]
    """
    inst = instrument or load_instrument()
    rules = rules if rules is not None else load_rules(instrument=inst)
    flat = complete(findings, inst)
    names = tree(flat)
    evaluator = _rulecheck.evaluator(names)
    # the key factors first: the rules' texts may call a driver one (plain("driver"))
    keys = key_factors(findings, getattr(rules, "key_factors", None) or default_rule())
    fired = []
    for rule in rules:
        try:
            if not evaluator.eval(rule.when):
                continue
            score = float(evaluator.eval(rule.rank_by)) if rule.rank_by else 0.0
        except (MissingEvidence, ZeroDivisionError):  # no evidence, no suggestion
            continue
        evidence = tuple(flat[e] for e in rule.evidence if e in flat and not flat[e].missing)
        context = {**names, "_facts": flat, "findings": findings, "key_factors": keys}
        try:  # a text that uses a missing fact unguarded: the rule does not fire either
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
        except MissingEvidence:
            continue
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
    out = Suggestions(fired)
    out.key_factors = keys
    return out
