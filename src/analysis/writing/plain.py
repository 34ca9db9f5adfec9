"""Plain phrases for leaders' documents, chosen from a figure by rules in one YAML file.

A leader reads “六成以上企业反映融资难融资贵，与上年基本持平”, not “61.4%（95%置信区间：
58.0%–64.7%），较上年提高4.5个百分点（差异不显著，校正后p=0.39）”. The phrase is chosen
from the estimate and its interval by the rules in ``resources/plain.yaml`` (明显上升
only when a change is significant after adjustment; 较为集中 only when a difficulty ranks
in the top three or is cited by 30% or more …), never written by hand.

Every phrase a draft prints is recorded with the fact it came from (:func:`recording`),
and the number audit re-derives each from the findings and refuses a phrase of this
vocabulary that no fact gave (:func:`untraced`).
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from analysis.findings.facts import Fact
from analysis.findings.model import Text

PLAIN_RULES = Path(__file__).parent / "resources" / "plain.yaml"
KINDS = ("share", "change", "trend", "standing", "contrast", "score", "driver", "approximate")
# placeholders filled with a number (the others with a label)
_NUMERIC = (
    "a",
    "b",
    "n_b",
    "times",
    "exact",
    "tens",
    "hundreds",
    "wan",
    "yi",
    "million",
    "billion",
    "thousands",
)
_PLACEHOLDER = re.compile(r"\{(" + "|".join((*_NUMERIC, "label_a", "label_b")) + r")\}")


@dataclass(frozen=True)
class Trace:
    """A plain phrase as printed, and the fact it was chosen from."""

    phrase: str
    kind: str
    path: str
    lang: str
    key: bool = False  # a driver the key_factors rule calls a key factor


@dataclass(frozen=True)
class _Rule:
    when: str
    text: Text


@cache
def rules(path: str | None = None) -> dict[str, tuple[_Rule, ...]]:
    """The phrase rules by kind (``resources/plain.yaml``)."""
    source = Path(path or PLAIN_RULES)
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    out = {}
    for kind in KINDS:
        entries = data.get(kind) if isinstance(data, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{source.name}: '{kind}' must list phrase rules")
        for r in entries:
            if not isinstance(r, dict) or set(r) != {"when", "zh", "en"}:
                raise ValueError(
                    f"{source.name}: {kind}: each rule has exactly when, zh and en "
                    f"(quote a phrase that holds a comma): {r!r}"
                )
        out[kind] = tuple(
            _Rule(str(r["when"]), Text(zh=str(r["zh"]), en=str(r["en"]))) for r in entries
        )
    return out


def _variables(kind: str, fact: Fact, facts: dict[str, Fact], key: bool = False) -> dict:
    def value(name):
        f = facts.get(name)
        return None if f is None else f.value

    v = {
        "value": fact.value,
        "lo": fact.lo,
        "hi": fact.hi,
        "n": fact.n,
        "p": fact.p,
        "significant": bool(fact.significant),
        "rank": None,
        "priority": False,
        "overall": value("index.overall.score"),
        "a": fact.a,
        "b": fact.b,
        "n_a": fact.n_a,
        "n_b": fact.n_b,
        "ratio": None,
        "times": None,
        "key": key,
        "money": fact.kind == "money",
    }
    parts = fact.path.split(".")
    if kind == "standing" and parts[0] == "difficulty":
        v["rank"] = value(f"difficulty.{parts[1]}.rank")
    if kind == "driver" and parts[0] == "driver":
        v["rank"] = value(f"driver.{parts[1]}.rank")
        v["priority"] = bool(value(f"driver.{parts[1]}.priority"))
        v["value"] = value(f"item.{parts[1]}.score")
    if kind == "contrast" and fact.a is not None and fact.b:
        v["ratio"] = fact.a / fact.b
        v["times"] = math.floor(fact.a / fact.b + 1e-9)
    return v


def choose(
    kind: str, fact: Fact, facts: dict[str, Fact], lang: str = "zh", key: bool = False
) -> str | None:
    """The phrase the rules give for a fact; None when the fact is missing. ``key``: the
    fact's driver is a key factor by the rules' ``key_factors`` condition (kind
    ``driver``; only a key factor is called 关键因素).

    Examples
    --------
    >>> choose("share", facts["difficulty.financing.share"], facts)  # doctest: +SKIP
    '六成以上'
    """
    from simpleeval import SimpleEval as EvalWithCompoundTypes

    if kind not in KINDS:
        raise ValueError(f"plain phrase kind must be one of {', '.join(KINDS)}")
    if fact is None or fact.value is None:
        return None
    if kind == "contrast" and (fact.a is None or fact.b is None):
        return None
    names = _variables(kind, fact, facts, key)
    evaluator = EvalWithCompoundTypes(
        names={**names, "true": True, "false": False, "None": None},
        functions={"abs": abs, "min": min, "max": max},
    )
    for rule in rules()[kind]:
        try:
            ok = bool(evaluator.eval(rule.when))
        except (TypeError, ZeroDivisionError):
            ok = False
        if ok:
            return _fill(rule.text.get(lang), fact, names, lang)
    return None


def _fill(template: str, fact: Fact, names: dict, lang: str) -> str:
    from analysis.writing import numfmt

    def label(text: Text | None) -> str:
        if text is None:
            return ""
        return text.get(lang).lower() if lang == "en" else text.get(lang)

    values = {
        **(_rounded(fact.value, fact.kind == "money", lang) if _is_number(fact.value) else {}),
        "a": numfmt.pct(fact.a),
        "b": numfmt.pct(fact.b),
        "n_b": numfmt.count(fact.n_b),
        "times": str(names["times"]),
        "label_a": label(fact.label_a),
        "label_b": label(fact.label_b),
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rounded(value: float, money: bool, lang: str) -> dict[str, str]:
    """A ledger figure as counted and rounded down, for the ``approximate`` phrases:
    21,345,600元 gives wan 2,134 (2,134万余元) and million 21.3; 43 gives tens 40."""
    from analysis.writing import numfmt

    def down(x: float, step: float) -> float:
        return math.floor(x / step + 1e-9) * step

    return {
        "exact": numfmt.amount_exact(value, lang) if money else numfmt.count(value),
        "tens": numfmt.count(down(value, 10)),
        "hundreds": numfmt.count(down(value, 100)),
        "wan": numfmt.count(down(value, 1e4) / 1e4),
        "yi": numfmt._plain(down(value, 1e7) / 1e8, 1),
        "million": numfmt._plain(down(value, 1e5) / 1e6, 1),
        "billion": numfmt._plain(down(value, 1e7) / 1e9, 2),
        "thousands": numfmt.count(down(value, 1e4)),
    }


def default_kind(fact: Fact) -> str:
    """The phrase kind that fits a fact: shares get 成数, changes 升降, gaps 对比 …"""
    if fact.path.startswith("driver."):
        return "driver"
    return {
        "share": "share",
        "points": "change",
        "score_points": "change",
        "gap": "contrast",
        "score": "score",
    }.get(fact.kind, "share")


# -- tracing ------------------------------------------------------------------------

_TRACES: ContextVar[list | None] = ContextVar("plain_traces", default=None)


@contextmanager
def recording():
    """Collect the :class:`Trace` of every phrase printed inside the block."""
    traces: list[Trace] = []
    token = _TRACES.set(traces)
    try:
        yield traces
    finally:
        _TRACES.reset(token)


def record(trace: Trace) -> None:
    traces = _TRACES.get()
    if traces is not None:
        traces.append(trace)


@cache
def _vocabulary(lang: str) -> tuple[re.Pattern, ...]:
    out = []
    for kind in KINDS:
        for rule in rules()[kind]:
            text = rule.text.get(lang)
            if not _PLACEHOLDER.sub("", text).strip():
                continue  # a figure as counted ({exact}): the number audit checks it
            pattern = re.escape(text)
            pattern = re.sub(
                r"\\\{(\w+)\\\}",
                lambda m: r"[\d.,%]+" if m.group(1) in _NUMERIC else r".{1,24}?",
                pattern,
            )
            out.append(re.compile(pattern, re.I if lang == "en" else 0))
    # longest first, so that 反映较为集中 is found before a shorter phrase inside it
    return tuple(sorted(out, key=lambda p: -len(p.pattern)))


def verify(traces, facts: dict[str, Fact], lang: str) -> list[str]:
    """Traces whose phrase is not what the rules give for the fact's value now."""
    bad = []
    for t in traces:
        if t.lang != lang:
            continue
        fact = facts.get(t.path)
        expected = choose(t.kind, fact, facts, lang, t.key) if fact is not None else None
        if expected != t.phrase:
            bad.append(f"“{t.phrase}” ({t.path}: the rules give {expected!r})")
    return bad


def untraced(text: str, traces, lang: str) -> tuple[list[str], str]:
    """Phrases of the vocabulary in ``text`` that no trace accounts for, and the text
    with the traced phrases taken out (so the numbers inside them are not audited
    twice). Text in quotation marks — firms' own words — is not scanned."""
    traced = {t.phrase for t in traces if t.lang == lang}
    for phrase in sorted(traced, key=len, reverse=True):
        # a phrase may open a sentence or a headline in English: Nearly four in ten
        # where it stands whole: a phrase "43" is not the end of "143"
        before = r"(?<![\d.,])" if phrase[:1].isdigit() else ""
        after = r"(?![\d.,]*\d)" if phrase[-1:].isdigit() else ""
        pattern = before + re.escape(phrase) + after
        text = re.sub(pattern, " ", text, flags=re.I if lang == "en" else 0)
    scan = re.sub(r"“[^”]*”", " ", text)
    stray = []
    for pattern in _vocabulary(lang):
        for m in pattern.finditer(scan):
            stray.append(m.group(0))
        scan = pattern.sub(" ", scan)
    return stray, text
