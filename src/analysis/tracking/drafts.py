"""The 工作总结 and the 工作信息: the office's results as the drafts it sends every year.

=================  ========================================================================
genre              what it is
=================  ========================================================================
``work-summary``   工作总结: 标题, an opening, 一、主要工作和成效 with one （一）（二）… per
                   line of work (参政议政, 服务企业, 社会责任, 法律服务 … the ``lines`` of
                   ``data/instrument/office-ledgers.yaml``), 二、存在的问题, 三、下一步工作
                   打算, 落款 and date; in English a memo with the same sections
``work-info``      工作信息: 版头, 期号, one A4 page on the same period
=================  ========================================================================

They are drafts of the survey drafts' kind (:class:`analysis.writing.drafts.Draft`): the
same Markdown with directive lines, DOCX (GB/T 9704) and HTML writers, number audit and
genre check (``writing/resources/genres.yaml``). What differs is where the figures come
from: every number is a count of the office's ledgers (:mod:`analysis.tracking.facts`,
each fact with its ledger rows), printed exactly, or in the words of the plain-phrase
rules (``approximate`` in ``writing/resources/plain.yaml``: 40余件, 2,134万余元) for the
measures a kind of service lists under ``approximate``. The services' sentences are the
kinds' ``clauses`` of the ledgers' YAML, their ``{measure}`` filled by plain text
replacement. Adoption by channel is listed channel by channel and never added up: one
item adopted by three bodies is one item in “被采用X篇”.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2

from analysis.findings.facts import Fact, tree
from analysis.tracking import facts as tfacts
from analysis.tracking.model import Results
from analysis.tracking.spec import LedgerSpec
from analysis.writing import numfmt, plain, render
from analysis.writing.drafts import Draft, _blocks, audit_numbers

GENRES = ("work-summary", "work-info")
TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """The writing stage's environment (Markdown, no autoescape) with this stage's
    templates in front and the ledgers' formats as filters (its own filter table)."""
    base = render.environment()
    env = base.overlay(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), base.loader])
    )
    env.filters = dict(base.filters)
    env.filters["n"] = jinja2.pass_context(lambda ctx, f: _exact(f, ctx.get("lang", "zh")))
    env.filters["plural"] = _plural
    return env


def _plural(label: str, fact: Fact) -> str:
    """An English kind's name for a count: 1 plenary speech, 2 plenary speeches."""
    if fact.value == 1:
        return label
    return label + ("es" if label.endswith(("ch", "sh", "s", "x")) else "s")


def _exact(fact: Fact, lang: str) -> str:
    """A ledger figure as counted: 34, 12.5亿元 / CNY 1.25 billion, 38.2%, 21."""
    if fact.value is None:
        return "—"
    if fact.kind == "money":
        return numfmt.amount_exact(fact.value, lang)
    if fact.kind == "share":
        return numfmt.pct(fact.value)
    if fact.kind == "score":
        return numfmt.score(fact.value, lang)
    return numfmt.count(fact.value)


def _measure(ctx: dict, spec: LedgerSpec, kind: str, name: str, fact: Fact) -> str:
    """A measure of a kind of service in a clause: exact or approximate (by the
    plain-phrase rules, traced), with its counting word: 1,200户, 40余件, 2,134万余元."""
    lang = ctx["lang"]
    if name in spec.kind(kind).approximate:
        text = render._plain(ctx, fact, "approximate")
    else:
        text = _exact(fact, lang)
    unit = spec.unit(kind, name)
    if fact.kind == "money" or unit is None:
        return text
    return f"{text}{unit.zh}" if lang == "zh" else f"{text} {unit.en}"


def clauses(ctx: dict, results: Results, spec: LedgerSpec, line: str) -> list[str]:
    """The services' sentences of one line of work, from the kinds' clauses; a clause
    whose figures are all zero in the period is left out."""
    flat, lang = ctx["_facts"], ctx["lang"]
    out = []
    for service in results.services:
        if service.line != line:
            continue
        for clause in spec.kind(service.code).clauses:
            text = clause.get(lang)
            names = re.findall(r"\{(\w+)\}", text)
            found = {n: flat.get(f"service.{service.code}.{n}") for n in names}
            if not any(f is not None and f.value for f in found.values()):
                continue
            for n, fact in found.items():
                value = _measure(ctx, spec, service.code, n, fact) if fact else "—"
                text = text.replace("{" + n + "}", value)
            out.append(text)
    return out


def _names(results: Results, office, flat: dict, lang: str) -> dict:
    """Adoption by channel and publication, the ledgers' names as the draft's language
    says them, each with its fact."""
    name = (lambda x: x) if lang == "zh" else office.english
    a = results.adoption
    return {
        "channels": [
            (name(c.body), flat[f"adoption.channel.{i}.items"])
            for i, c in enumerate(a.by_channel, 1)
        ],
        "publications": [
            (name(p.name), name(p.body) if p.body else "", flat[f"adoption.publication.{i}.items"])
            for i, p in enumerate(a.publications, 1)
            if p.items.value
        ],
    }


def context(results: Results, spec: LedgerSpec, office, lang: str) -> dict:
    """What the 工作总结 and 工作信息 templates see."""
    flat = tfacts.facts(results)
    date = office.date or results.period.end.isoformat()
    ctx: dict = {
        "r": results,
        "f": tree(flat),
        "_facts": flat,
        "lang": lang,
        "register": "plain",
        "office": office,
        "unit": office.unit.get(lang),
        "unit_short": office.unit_short if lang == "zh" else office.unit.en,
        "period": results.period.label.get(lang),
        "year": results.period.key.isdigit(),
        "date": date,
        "issue": office.issue("info"),
    }
    ctx.update(_names(results, office, flat, lang))
    a = results.adoption
    ctx["kinds"] = [
        (k.label.get(lang), flat[f"kind.{k.code}.submitted"], k.unit.get(lang))
        for k in results.by_kind
    ]
    ctx["kinds"] = [k for k in ctx["kinds"] if k[1].value]
    ctx["leaders"] = [
        (
            spec.option("level", lv.code).leaders or lv.label,
            flat[f"adoption.instructed_by.{lv.code}"],
        )
        for lv in a.instructed_levels
    ]
    ctx["leaders"] = [(t.get(lang), f) for t, f in ctx["leaders"] if f.value]
    ctx["lines"] = []
    for line in spec.lines:
        ctx["lines"].append(
            {
                "name": line.name,
                "label": line.label.get(lang),
                "heading": line.heading.get(lang),
                "plan": line.plan.get(lang) if line.plan else "",
                "clauses": clauses(ctx, results, spec, line.name)
                if line.name != "politics"
                else [],
            }
        )
    # the politics line is there when anything was sent; a service line when it has a clause
    ctx["lines"] = [
        x
        for x in ctx["lines"]
        if x["clauses"] or (x["name"] == "politics" and results.submitted.value)
    ]
    name = (lambda x: x) if lang == "zh" else office.english
    ranked = sorted(results.topics, key=lambda t: -t.submitted.value)
    ctx["topics"] = [name(t.label) for t in ranked[:3]]
    ctx["unadopted"] = [name(t.label) for t in ranked if t.submitted.value and not t.adopted.value]
    better, still = [], []
    for t in results.loop:
        for j, i in enumerate(t.indicators, 1):
            path = f"loop.{t.rule}.{j}"
            if f"{path}.before" not in flat:
                continue
            good = (i.kind == "share" and i.change < 0) or (i.kind == "score" and i.change > 0)
            if i.significant and good:
                better.append(
                    {
                        "label": i.label.get(lang),
                        "scope": i.scope.get(lang),
                        "before": flat[f"{path}.before"],
                        "after": flat[f"{path}.after"],
                        "up": i.change > 0,
                    }
                )
            elif not i.significant or not good:
                topic = t.topic.get(lang)
                if topic not in still:
                    still.append(topic)
    ctx["better"], ctx["still"] = (
        better,
        [x for x in still if x not in {b["label"] for b in better}],
    )
    ctx["undeduplicated"] = [
        s.label.get(lang)
        for s in results.services
        for m in s.measures
        if m.name == "firms" and m.deduplicated is False and m.value.value
    ]
    return ctx


def make_work_draft(
    genre: str, results: Results, spec: LedgerSpec, office, lang: str = "zh"
) -> Draft:
    """Render the 工作总结 (``work-summary``) or the 工作信息 (``work-info``) in one language.

    Parameters
    ----------
    genre : ``work-summary`` or ``work-info``.
    results : the period's results (:func:`analysis.tracking.build.build_results`).
    spec : the ledgers' description (its lines of work and the kinds' clauses).
    office : the office profile (:func:`analysis.ingest.office.load_office`): the unit,
        the 期号 of the 工作信息 (``issues: {info: …}``), English names of bodies.
    lang : ``zh`` or ``en``.

    Returns
    -------
    Draft
        ``draft.write(folder)`` writes ``<genre>.<lang>.docx`` and ``.html``.

    Examples
    --------
    >>> d = make_work_draft("work-summary", results, spec, office)  # doctest: +SKIP
    >>> d.title  # doctest: +SKIP
    '青海省工商业联合会2025年工作总结'
    """
    from analysis.ingest.office import ProfileError

    if genre not in GENRES:
        raise ValueError(f"genre must be one of {', '.join(GENRES)}")
    if lang not in ("zh", "en"):
        raise ValueError("lang must be zh or en")
    if genre == "work-info" and office.issue("info") is None:
        raise ProfileError(
            f"{Path(office.source).name}: no 期号 for the 工作信息",
            "add info to issues: in the office profile, "
            "e.g. issues: {social: 12, summary: 7, info: 5}",
        )
    template = environment().get_template(f"drafts/{genre}.{lang}.md.j2")
    with plain.recording() as traces:
        ctx = context(results, spec, office, lang)
        markdown = template.render(**ctx)
    spans = {*ledger_names(results, office), *(n for n in office.names() if _DIGIT.search(n))}
    spans = tuple(sorted((s for s in spans if _DIGIT.search(s)), key=len, reverse=True))
    return Draft(
        genre, lang, _blocks(markdown), spans, tuple(traces), office.unit.get(lang), ctx["date"]
    )


_DIGIT = re.compile(r"\d")


def make_work_drafts(results: Results, spec: LedgerSpec, office) -> list[Draft]:
    """Both genres in both languages."""
    return [
        make_work_draft(g, results, spec, office, lang) for g in GENRES for lang in ("zh", "en")
    ]


def ledger_names(results: Results, office=None) -> set[str]:
    """Names the drafts print as the ledgers write them (bodies, publications, topics),
    and their English names: labels, not the office's figures."""
    a = results.adoption
    names = {c.body for c in a.by_channel} | {p.name for p in a.publications}
    names |= {p.body for p in a.publications if p.body} | {t.label for t in results.topics}
    names |= {t.topic.zh for t in results.loop} | {t.topic.en for t in results.loop}
    names |= {i.label.get(x) for t in results.loop for i in t.indicators for x in ("zh", "en")}
    names |= {i.scope.get(x) for t in results.loop for i in t.indicators for x in ("zh", "en")}
    if office is not None:
        names |= {office.english(n) for n in set(names)}
    return names


def allowed_numbers(results: Results, draft: Draft, office) -> dict[str, list[str]]:
    """Every number a results draft may print, with what it is: each fact formatted
    as the drafts print it (→ the fact's path), the draft's date, the period's label
    and the office profile's 期号."""
    lang = draft.lang
    allowed: dict[str, list[str]] = {}
    for path, fact in tfacts.facts(results).items():
        if fact.value is None:
            continue
        for n in numfmt.numbers_in(_exact(fact, lang)):
            allowed.setdefault(n, []).append(path)
    texts = [results.period.label.get(lang), results.title.get(lang)]
    if draft.date:
        texts += [numfmt.day(draft.date, lang), numfmt.month(draft.date, lang)]
    for t in texts:
        for n in numfmt.numbers_in(t):
            if "date or period" not in allowed.setdefault(n, []):
                allowed[n].append("date or period")
    for genre, n in office.issues.items():
        allowed.setdefault(str(n), []).append(f"issues.{genre}")
    return allowed


def audit(draft: Draft, results: Results, office) -> list[str]:
    """Numbers and plain phrases of a results draft that are not counts of the ledgers:
    the survey drafts' audit (:func:`analysis.writing.drafts.audit_numbers`) with the
    results' facts. Empty when everything traces.

    Examples
    --------
    >>> draft = make_work_draft("work-summary", results, spec, office)  # doctest: +SKIP
    >>> audit(draft, results, office)  # doctest: +SKIP
    []
    """
    allowed = set(allowed_numbers(results, draft, office))
    return audit_numbers(draft, tfacts.facts(results), allowed)


def trace(draft: Draft, results: Results, office) -> list[dict]:
    """Each number and plain phrase the draft prints, with the facts it can be and
    their ledger rows (``{"number": "15", "facts": [...], "rows": {"events": [...]}}``),
    in the order printed; written beside the drafts as ``drafts/trace.json``."""
    from analysis.writing.drafts import _STRUCTURE, _audited_lines, _whole

    traced = tfacts.traced(results)
    allowed = allowed_numbers(results, draft, office)
    text = "\n".join(_audited_lines(draft.markdown))
    for span in draft.not_claims:
        text = _whole(span).sub(" ", text)
    out = []
    for t in draft.traces:
        out.append({"phrase": t.phrase, "facts": [t.path], "rows": _rows(traced[t.path][1])})
    _, text = plain.untraced(text, draft.traces, draft.lang)
    for n in numfmt.numbers_in(_STRUCTURE.sub("", text)):
        paths = allowed.get(n, [])
        refs = [r for p in paths if p in traced for r in traced[p][1]]
        out.append({"number": n, "facts": paths, "rows": _rows(refs)})
    return out


def _rows(refs) -> dict[str, list[int]]:
    rows: dict[str, set[int]] = {}
    for r in refs:
        rows.setdefault(r.ledger, set()).update(r.rows)
    return {k: sorted(v) for k, v in sorted(rows.items())}
