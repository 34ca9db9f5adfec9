"""Which key drivers a brief may call key factors (关键因素): a rule in the rules YAML.

The default, in ``resources/rules.yaml``::

    key_factors:
      when: least.lo > others.hi and least.lo > 1 / items
      most: 3

The top k items of the key-driver ranking are key factors when the condition holds
for them, for the largest k up to ``most``; names in the condition:

``least``   the k-th item's importance (share of the explained variance), with
            ``.lo`` and ``.hi``, its interval from the replicate weights
``others``  the items ranked below: ``.value``, ``.lo`` and ``.hi`` are the largest
            among them
``items``   the number of items ranked; ``k`` the number tried

so by default an item is a key factor only when even the least of the key factors is
clearly more important than each of the others and than an equal share. None may be.
A rules file of the user's replaces the condition with its own ``key_factors``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from analysis.errors import RuleError
from analysis.findings.facts import Fact, MissingEvidence
from analysis.findings.model import Findings, Text

DEFAULT_RULES = Path(__file__).parent / "resources" / "rules.yaml"
NAMES = {"least", "others", "items", "k"}
ATTRIBUTES = {"value", "lo", "hi"}


@dataclass(frozen=True)
class KeyFactorRule:
    when: str
    most: int
    source: str


def parse(raw, source: str) -> KeyFactorRule:
    """The ``key_factors`` mapping of a rules file, checked."""
    where = f"{source}: key_factors"
    if not isinstance(raw, dict) or "when" not in raw:
        raise RuleError(
            f"{where} must be a mapping with 'when' (and 'most')",
            "write key_factors: {when: least.lo > others.hi, most: 3}",
        )
    unknown = [k for k in raw if k not in ("when", "most")]
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(unknown)}", "use when and most")
    most = raw.get("most", 3)
    if isinstance(most, bool) or not isinstance(most, int) or most < 1:
        raise RuleError(f"{where}: most={most!r} is not a number of items", "give e.g. most: 3")
    when = " ".join(str(raw["when"]).split())
    try:
        tree = ast.parse(when, mode="eval")
    except SyntaxError as exc:
        raise RuleError(
            f"{where}: 'when' is not a valid expression: {exc.msg} in {when!r}",
            "write e.g. least.lo > others.hi and least.lo > 1 / items",
        ) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            raise RuleError(f"{where}: 'when' may not call functions", "compare facts only")
        if isinstance(node, ast.Name) and node.id not in NAMES:
            raise RuleError(f"{where}: unknown name {node.id!r}", f"use {', '.join(sorted(NAMES))}")
        if isinstance(node, ast.Attribute) and node.attr not in ATTRIBUTES:
            raise RuleError(
                f"{where}: unknown attribute {node.attr!r}", f"use {', '.join(sorted(ATTRIBUTES))}"
            )
    return KeyFactorRule(when=when, most=most, source=source)


def key_factors(findings: Findings, rule: KeyFactorRule) -> tuple[str, ...]:
    """Codes of the items the rule calls key factors, most important first."""
    from simpleeval import SimpleEval

    if findings.drivers is None or not findings.drivers.items:
        return ()
    ranked = sorted(findings.drivers.items, key=lambda d: d.rank)
    label = Text(zh="重要性", en="importance")
    best: tuple[str, ...] = ()
    for k in range(1, min(rule.most, len(ranked) - 1) + 1):
        least, rest = ranked[k - 1], ranked[k:]
        names = {
            "least": Fact(
                "least", "share", least.importance, label,
                least.importance_ci_low, least.importance_ci_high,
            ),
            "others": Fact(
                "others", "share", max(d.importance for d in rest), label,
                _max(d.importance_ci_low for d in rest), _max(d.importance_ci_high for d in rest),
            ),
            "items": len(ranked),
            "k": k,
        }  # fmt: skip
        try:
            if SimpleEval(names=names).eval(rule.when):
                best = tuple(d.code for d in ranked[:k])
        except (MissingEvidence, TypeError):
            continue  # no interval (too few firms for replicates): no key factor
    return best


def _max(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


@cache
def default_rule() -> KeyFactorRule:
    """The ``key_factors`` rule of the default rules file."""
    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    return parse(data["key_factors"], DEFAULT_RULES.name)
