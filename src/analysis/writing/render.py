"""The Jinja2 environment every text of Qifang is written in: rules, brief, drafts.

Numbers reach text only through these filters, applied to facts
(:mod:`analysis.findings.facts`), so each printed number is a formatted figure of the findings:

=============  =================================================================
``v``          the value, formatted by the fact's kind (42.3%, 76.4分, 提高5.2个百分点)
``ci``         its confidence interval as a parenthetical
``vci``        both
``bounds``     the interval alone, for a table column (39.1%–45.5%)
``sig``        for a change: whether it is significant, with the adjusted p-value
``n``          the number of respondents behind the figure
``label``      the fact's label in the text's language
``quote``      a firm's words in quotation marks
=============  =================================================================

and the test ``available`` (``{% if x is available %}``) guards facts that may be
missing. HTML templates autoescape, so free text (quotes from firms) can never inject
markup into a brief.

Templates that ship with Qifang use :func:`environment`; a text a user supplies (the
texts of a rules file) is rendered by :func:`sandbox`, Jinja's immutable sandbox with
the same filters, after :mod:`analysis.writing.suggest` has checked it uses nothing else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from analysis.findings.facts import Fact
from analysis.findings.model import Text
from analysis.writing import numfmt

TEMPLATES = Path(__file__).parent / "templates"


def _lang(ctx) -> str:
    return ctx.get("lang", "zh")


def _confidence(ctx) -> float:
    findings = ctx.get("findings")
    return findings.method.confidence if findings is not None else 0.95


def _v(ctx, fact: Fact) -> str:
    lang = _lang(ctx)
    value = fact.value
    if value is None:
        return "—"
    kind = fact.kind
    if kind == "share":
        return numfmt.pct(value)
    if kind == "score":
        return numfmt.score(value, lang)
    if kind == "points":
        return numfmt.points(value, lang)
    if kind == "gap":
        return numfmt.gap(value, lang)
    if kind == "score_points":
        return numfmt.score_change(value, lang)
    if kind == "count":
        return numfmt.count(value)
    if kind == "days":
        return f"{value:.0f}天" if lang == "zh" else f"{value:.0f} days"
    if kind == "rank":
        return str(int(value))
    if kind == "flag":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    return numfmt.number(value)


def _ci(ctx, fact: Fact) -> str:
    if fact.value is None or fact.lo is None or fact.hi is None:
        return ""
    kind = {
        "share": "pct",
        "points": "pct",
        "gap": "pct",
        "score": "score",
        "score_points": "score",
    }.get(fact.kind, "number")
    return numfmt.interval(fact.lo, fact.hi, kind, _lang(ctx), _confidence(ctx))


def _bounds(ctx, fact: Fact) -> str:
    """The interval alone, for a table column: ``39.1%–45.5%``."""
    if fact.value is None or fact.lo is None or fact.hi is None:
        return "—"
    if fact.kind in ("share", "points", "gap"):
        return f"{numfmt.pct(fact.lo)}–{numfmt.pct(fact.hi)}"
    return f"{fact.lo:.1f}–{fact.hi:.1f}"


def _vci(ctx, fact: Fact) -> str:
    return _v(ctx, fact) + _ci(ctx, fact)


def _sig(ctx, fact: Fact) -> str:
    lang = _lang(ctx)
    if fact.value is None or fact.significant is None:
        return ""
    p = numfmt.p_value(fact.p)
    if lang == "en":
        return (
            f" (significant, adjusted {p})"
            if fact.significant
            else f" (not significant, adjusted {p})"
        )
    return f"（差异显著，校正后{p}）" if fact.significant else f"（差异不显著，校正后{p}）"


def _n(ctx, fact: Fact) -> str:
    return numfmt.count(fact.n) if fact.n is not None else "—"


def _label(ctx, value) -> str:
    lang = _lang(ctx)
    if isinstance(value, Fact):
        return value.label.get(lang)
    if isinstance(value, Text):
        return value.get(lang)
    if isinstance(value, dict) and "zh" in value:
        return value["en"] if lang == "en" else value["zh"]
    return str(value)


def _quote(text: str) -> str:
    """A firm's words in quotation marks, without the full stop that would clash with
    the punctuation after the closing mark: “订单明显减少”。"""
    return "“" + str(text).strip().rstrip("。.！!；;，,") + "”"


def _available(value) -> bool:
    return isinstance(value, Fact) and value.value is not None


@cache
def brief_css() -> str:
    """The one stylesheet of briefs, drafts and index pages (screen, print, PDF)."""
    return (TEMPLATES / "brief.css").read_text(encoding="utf-8")


@cache
def environment(autoescape: bool = False) -> jinja2.Environment:
    """The shared environment of Qifang's own templates; ``autoescape`` for HTML."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    return _install(env)


@cache
def sandbox() -> jinja2.Environment:
    """The environment for texts a user supplies: an immutable sandbox (no attribute
    starting with ``_``, nothing that changes data, ``range`` bounded), no loader (no
    file can be included), the same filters and tests."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict
    return _install(env)


def _install(env: jinja2.Environment) -> jinja2.Environment:
    for name, fn in (
        ("v", _v),
        ("ci", _ci),
        ("vci", _vci),
        ("bounds", _bounds),
        ("sig", _sig),
        ("n", _n),
        ("label", _label),
    ):
        env.filters[name] = jinja2.pass_context(fn)
    env.filters["quote"] = _quote
    env.filters["pct"] = numfmt.pct
    env.filters["count"] = numfmt.count
    env.filters["cn"] = numfmt.cn_ordinal
    env.filters["month"] = jinja2.pass_context(lambda ctx, v: numfmt.month(v, _lang(ctx)))
    env.filters["day"] = jinja2.pass_context(lambda ctx, v: numfmt.day(v, _lang(ctx)))
    env.tests["available"] = _available
    return env


SECTIONS = ("index", "difficulties", "policies", "drivers", "voices", "requests", "suggestions")


def outline(findings) -> tuple[dict[str, bool], dict[str, int]]:
    """Which numbered sections a brief has, and their numbers.

    A section is in the brief when it has figures, or when its data could not support
    it (then it says why, :class:`~analysis.findings.model.Omission` of kind
    ``data``); a section the inputs do not have (no ledger, no policy question) is
    left out, and the sections after it are numbered on.
    """
    omitted = {o.section: o for o in findings.omitted}

    def shown(section: str, has: bool) -> bool:
        o = omitted.get(section)
        return has or (o is not None and o.kind == "data")

    urgent = any(b.field == "urgent_needs" and b.categories for b in findings.open_answers)
    present = {
        "index": True,
        "difficulties": bool(findings.difficulties),
        "policies": shown("policies", bool(findings.policies)),
        "drivers": shown("drivers", bool(findings.drivers and findings.drivers.items)),
        "voices": shown("voices", urgent),
        "requests": shown("requests", findings.requests is not None),
        "suggestions": True,
    }
    numbers, k = {}, 0
    for name in SECTIONS:
        if present[name]:
            k += 1
            numbers[name] = k
    return present, numbers


def context(findings, suggestions, lang: str) -> dict:
    """What a brief or draft template sees: the facts (``difficulty.financing.share``
    …), the findings, the suggestions, ``key_factors`` (the drivers the rules call key
    factors, :mod:`analysis.writing._keyfactors`) and a few labels in the text's
    language: the scope (海东市), the area (全省 / 全市), the whole regions are compared
    with, the regions' word (市州 / 区县), and the sections present with their numbers."""
    from analysis.findings.facts import facts, tree

    keys = getattr(suggestions, "key_factors", None)
    if keys is None:  # a plain list of suggestions: the default rule
        from analysis.writing._keyfactors import default_rule, key_factors

        keys = key_factors(findings, default_rule())
    drivers = {d.code: d for d in (findings.drivers.items if findings.drivers else [])}
    present, numbers = outline(findings)
    scope = findings.scope
    return {
        "key_factors": [drivers[c] for c in keys if c in drivers],
        **tree(facts(findings)),
        "findings": findings,
        "suggestions": suggestions,
        "lang": lang,
        "scope": scope.label.get(lang),
        "area": scope.area.get(lang),
        "whole": scope.whole.get(lang),
        "region_word": scope.region_word.get(lang),
        "unit": findings.unit.get(lang),
        "wave": scope.wave,
        "compare_wave": scope.compare_wave,
        "fieldwork": scope.fieldwork.get(lang),
        "present": present,
        "no": numbers,
        "omitted": {
            **dict.fromkeys((*SECTIONS, "changes"), ""),
            **{o.section: o.reason.get(lang) for o in findings.omitted},
        },
    }


def text(template: Text, context: dict) -> Text:
    """Render a zh/en pair of template strings (a user's: in the sandbox) with the same
    context."""
    env = sandbox()
    out = {}
    for lang in ("zh", "en"):
        out[lang] = (
            " ".join(env.from_string(template.get(lang)).render(**context, lang=lang).split())
            if lang == "en"
            else "".join(env.from_string(template.get(lang)).render(**context, lang=lang).split())
        )
    return Text(**out)
