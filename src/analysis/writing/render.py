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
``plain``      the plain phrase for a figure (六成以上, 与上年基本持平 …), chosen by the
               rules of ``resources/plain.yaml`` and traced for the number audit
``delta``      a change since the previous wave with its verdict, in the register
``contrast``   micro against large firms, in the register
``approx``     a population as a reader says it (约11.1万)
``dept``       a department code as the office profile names it
``cite``       a policy document of the office profile, by id
=============  =================================================================

A text is written in one of two registers (``register`` in the context): ``full`` (the
brief, the report's annex) prints intervals, tests and method; ``plain`` (the leaders'
genres) prints the figure alone — ``ci`` and ``sig`` print nothing, ``vci`` only the
value — and says what a change or a difference means in words.

And the test ``available`` (``{% if x is available %}``) guards facts that may be
missing. HTML templates autoescape, so free text (quotes from firms) can never inject
markup into a brief.

Templates that ship with Qifang use :func:`environment`; a text a user supplies (the
texts of a rules file) is rendered by :func:`sandbox`, Jinja's immutable sandbox with
the same filters, after :mod:`analysis.writing.suggest` has checked it uses nothing else.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

import jinja2

from analysis.findings.facts import Fact
from analysis.findings.model import Text
from analysis.writing import numfmt, plain

TEMPLATES = Path(__file__).parent / "templates"


def _lang(ctx) -> str:
    return ctx.get("lang", "zh")


def _plain_register(ctx) -> bool:
    return ctx.get("register", "full") == "plain"


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
        return numfmt.ordinal(int(value), lang)
    if kind == "flag":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    return numfmt.number(value)


def _ci(ctx, fact: Fact) -> str:
    if _plain_register(ctx):
        return ""
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
    lang = _lang(ctx)
    if fact.kind in ("share", "points", "gap"):
        return numfmt.span(numfmt.pct(fact.lo), numfmt.pct(fact.hi), lang)
    return numfmt.span(f"{fact.lo:.1f}", f"{fact.hi:.1f}", lang)


def _vci(ctx, fact: Fact) -> str:
    return _v(ctx, fact) + _ci(ctx, fact)


def _sig(ctx, fact: Fact) -> str:
    lang = _lang(ctx)
    if _plain_register(ctx) or fact.value is None or fact.significant is None:
        return ""
    p = numfmt.p_value(fact.p)
    if lang == "en":
        return (
            f" (significant, adjusted {p})"
            if fact.significant
            else f" (not significant, adjusted {p})"
        )
    return f"（差异显著，校正后{p}）" if fact.significant else f"（差异不显著，校正后{p}）"


def _facts(ctx) -> dict:
    return ctx.get("_facts") or {}


def _plain(ctx, fact: Fact, kind: str | None = None) -> str:
    """The plain phrase of a figure, recorded with its fact for the audit."""
    if not isinstance(fact, Fact) or fact.value is None:
        return ""
    kind = kind or plain.default_kind(fact)
    lang = _lang(ctx)
    keys = {getattr(k, "code", k) for k in ctx.get("key_factors") or ()}
    key = kind == "driver" and fact.path.split(".")[1] in keys
    phrase = plain.choose(kind, fact, _facts(ctx), lang, key)
    if phrase is None:
        return ""
    plain.record(plain.Trace(phrase, kind, fact.path, lang, key))
    return phrase


def _delta(ctx, fact: Fact) -> str:
    """A change since the previous wave: ``较上年提高4.5个百分点（差异不显著，校正后
    p=0.39）`` in the full register; ``与上年基本持平`` or ``较上年明显上升（提高5.2个百分点）``
    in the plain one."""
    if not isinstance(fact, Fact) or fact.value is None:
        return ""
    lang = _lang(ctx)
    if _plain_register(ctx):
        phrase = _plain(ctx, fact, "change")
        if fact.significant:
            return f"{phrase}（{_v(ctx, fact)}）" if lang == "zh" else f"{phrase} ({_v(ctx, fact)})"
        return phrase
    if lang == "en":
        return f"{_v(ctx, fact)} since the previous round{_sig(ctx, fact)}"
    return f"较上年{_v(ctx, fact)}{_sig(ctx, fact)}"


def _contrast(ctx, fact: Fact) -> str:
    """Micro against large firms. A group where no firm reported the item is said so
    (“17家大型企业均未反映”), never called significantly different: a share of zero has
    no sampling variance to test against."""
    if not isinstance(fact, Fact) or fact.value is None or fact.a is None or fact.b is None:
        return ""
    if _plain_register(ctx) or fact.b == 0:
        return _plain(ctx, fact, "contrast")
    lang = _lang(ctx)
    la = fact.label_a.get(lang) if fact.label_a else ""
    lb = fact.label_b.get(lang) if fact.label_b else ""
    a, b = numfmt.pct(fact.a), numfmt.pct(fact.b)
    if lang == "en":
        return (
            f"{a} of {la.lower()} firms and {b} of {lb.lower()} firms, a difference of "
            f"{_v(ctx, fact)}{_sig(ctx, fact)}"
        )
    return f"{la}企业为{a}，{lb}企业为{b}，相差{_v(ctx, fact)}{_sig(ctx, fact)}"


def _approx(ctx, fact) -> str:
    value = fact.value if isinstance(fact, Fact) else fact
    return numfmt.approx(value, _lang(ctx))


def _dept(ctx, code: str) -> str:
    """A department code as the office profile names it (several bodies joined)."""
    office = ctx.get("office")
    lang = _lang(ctx)
    if office is None:
        return str(code)
    return office.department(str(code), ctx.get("region_label")).get(lang)


def _cite(ctx, key: str) -> str:
    """A policy document of the office profile's library; empty when it has none."""
    office = ctx.get("office")
    doc = office.document(str(key)) if office is not None else None
    return doc.get(_lang(ctx)) if doc is not None else ""


def _depts(ctx, codes) -> str:
    """Department codes as the office profile names them, each body once, joined."""
    office = ctx.get("office")
    lang = _lang(ctx)
    names: list[str] = []
    for code in codes or ():
        if office is None:
            names.append(str(code))
            continue
        for body in office.bodies(str(code), ctx.get("region_label")):
            name = body.get(lang) if hasattr(body, "get") else getattr(body, lang)
            if name not in names:
                names.append(name)
    if lang == "en":
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return "、".join(names)


def _citations(ctx, suggestion) -> str:
    """The policy documents a suggestion's actions cite, as the office profile names
    them: 《…》《…》 / the … and the …; empty when the profile has none of them."""
    office = ctx.get("office")
    keys: list[str] = []
    for action in getattr(suggestion, "actions", ()):
        for key in getattr(action, "cites", ()):
            if key not in keys:
                keys.append(key)
    docs = [office.document(k) for k in keys] if office is not None else []
    names = [d.get(_lang(ctx)) for d in docs if d is not None]
    if _lang(ctx) == "en":
        return (
            names[0]
            if len(names) == 1
            else ", ".join(names[:-1]) + " and " + names[-1]
            if names
            else ""
        )
    return "".join(names)


def _key_phrases(phrases, k: int = 3) -> list[str]:
    """The most telling of a category's frequent phrases: words of three characters or
    more, none inside another chosen one."""
    chosen: list[str] = []
    for p in sorted((str(x) for x in phrases or ()), key=lambda x: -len(x)):
        if len(p) >= 3 and not any(p in c or c in p for c in chosen):
            chosen.append(p)
    order = {p: i for i, p in enumerate(phrases or ())}
    return sorted(chosen[:k], key=lambda p: order.get(p, 0))


def _suppression_note(ctx, findings) -> str:
    """How many figures were left out, said the same way in every output, from the one
    list of them (``findings.suppressed``: primary and complementary suppression)."""
    n = len(findings.suppressed)
    comp = sum(1 for c in findings.suppressed if c.reason == "complementary")
    if not n:
        return ""
    if _lang(ctx) == "en":
        figures = "figure is" if n == 1 else "figures are"
        also = (
            f"; {comp} of them have enough firms themselves but would let a hidden figure "
            "be recomputed from the published totals and shares"
            if comp
            else ""
        )
        return f" ({n} {figures} left out of this brief for that reason{also})"
    also = (
        f"，其中{comp}项本身样本充足，但与已公布的合计、比例一起可反推出被隐去的数值，故一并隐去"
        if comp
        else ""
    )
    return f"（本次共有{n}项数据因此未予公布{also}）"


def _most(rank) -> str:
    """A rank before a superlative in English: ``most`` for the first, ``second most``…"""
    value = rank.value if isinstance(rank, Fact) else rank
    if value is None:
        return ""
    return "most" if int(value) == 1 else f"{numfmt.ordinal(int(value), 'en')} most"


def _lead(text) -> tuple[str, str]:
    """An action's first sentence (its lead, set in bold) and the rest; no lead when
    the action is one sentence."""
    text = str(text).strip()
    for mark in ("。", ". "):
        head, sep, rest = text.partition(mark)
        if sep and rest.strip():
            return head + sep.strip(), rest.strip()
    return "", text


def _n(ctx, fact: Fact) -> str:
    return numfmt.count(fact.n) if fact.n is not None else "—"


def _label(ctx, value) -> str:
    lang = _lang(ctx)
    if isinstance(value, Fact):
        return value.label.get(lang)
    if isinstance(value, Text):
        return value.get(lang)
    if hasattr(value, "get") and hasattr(value, "zh") and hasattr(value, "en"):
        return value.get(lang)  # an action, an office name
    if isinstance(value, dict) and "zh" in value:
        return value["en"] if lang == "en" else value["zh"]
    return str(value)


def _quote(text: str) -> str:
    """A firm's words in quotation marks, without the full stop that would clash with
    the punctuation after the closing mark: “订单明显减少”。 Quotation marks inside the
    firm's words become single ones: “建议推行‘综合查一次’”."""
    inner = str(text).strip().rstrip("。.！!；;，,").replace("“", "‘").replace("”", "’")
    return "“" + inner + "”"


def _available(value) -> bool:
    return isinstance(value, Fact) and value.value is not None


@cache
def brief_css() -> str:
    """The one stylesheet of briefs, drafts and index pages (screen, print, PDF)."""
    return (TEMPLATES / "brief.css").read_text(encoding="utf-8")


@cache
@cache
def environment(autoescape: bool = False) -> jinja2.Environment:
    """The shared environment of Qifang's own templates; ``autoescape`` for HTML.

    One per process, so a template file is compiled once, not once per brief or draft
    (a batch's warm kernels make many); Jinja reloads a file that changed on disk.
    Callers only read from it: an overlay has its own filters."""
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


@lru_cache(maxsize=4096)
def _compiled(source: str) -> jinja2.Template:
    """A rule's text compiled in the sandbox once per process: the same rules' texts are
    rendered for every brief of a batch (and several times in one)."""
    return sandbox().from_string(source)


def _install(env: jinja2.Environment) -> jinja2.Environment:
    for name, fn in (
        ("v", _v),
        ("ci", _ci),
        ("vci", _vci),
        ("bounds", _bounds),
        ("sig", _sig),
        ("n", _n),
        ("label", _label),
        ("plain", _plain),
        ("delta", _delta),
        ("contrast", _contrast),
        ("approx", _approx),
        ("dept", _dept),
        ("depts", _depts),
        ("cite", _cite),
        ("citations", _citations),
        ("suppression_note", _suppression_note),
    ):
        env.filters[name] = jinja2.pass_context(fn)
    env.filters["quote"] = _quote
    env.filters["lead"] = _lead
    env.filters["key_phrases"] = _key_phrases
    env.filters["pct"] = numfmt.pct
    env.filters["count"] = numfmt.count
    env.filters["cn"] = numfmt.cn_ordinal
    env.filters["ordinal"] = jinja2.pass_context(lambda ctx, v: numfmt.ordinal(v, _lang(ctx)))
    env.filters["most"] = _most
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


def context(findings, suggestions, lang: str, office=None, register: str = "full") -> dict:
    """What a brief or draft template sees: the facts (``difficulty.financing.share``
    …), the findings, the suggestions, ``key_factors`` (the drivers the rules call key
    factors, :mod:`analysis.writing._keyfactors`), the office profile, the register, and
    a few labels in the text's language: the scope (海东市), the area (全省 / 全市), the
    whole regions are compared with, the regions' word (市州 / 区县), and the sections
    present with their numbers."""
    from analysis.findings.facts import facts, tree
    from analysis.ingest.office import load_office

    keys = getattr(suggestions, "key_factors", None)
    if keys is None:  # a plain list of suggestions: the default rule
        from analysis.writing._keyfactors import default_rule, key_factors

        keys = key_factors(findings, default_rule())
    drivers = {d.code: d for d in (findings.drivers.items if findings.drivers else [])}
    present, numbers = outline(findings)
    scope = findings.scope
    office = office or load_office()
    flat = facts(findings)
    return {
        "key_factors": [drivers[c] for c in keys if c in drivers],
        **tree(flat),
        "_facts": flat,
        "findings": findings,
        "suggestions": suggestions,
        "lang": lang,
        "register": register,
        "office": office,
        "region_label": scope.label if scope.region else None,
        "scope": scope.label.get(lang),
        "area": scope.area.get(lang),
        "whole": scope.whole.get(lang),
        "region_word": scope.region_word.get(lang),
        "unit": office.unit.get(lang) if office else findings.unit.get(lang),
        "unit_short": office.unit_short if lang == "zh" else office.unit.en,
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


def text(template: Text, context: dict, register: str = "full") -> Text:
    """Render a zh/en pair of template strings (a user's: in the sandbox) with the same
    context, in a register (``full`` or ``plain``)."""
    out = {}
    for lang in ("zh", "en"):
        rendered = _compiled(template.get(lang)).render(
            **{**context, "lang": lang, "register": register}
        )
        out[lang] = " ".join(rendered.split()) if lang == "en" else "".join(rendered.split())
    return Text(**out)
