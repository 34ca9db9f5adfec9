"""Draft an instrument from an export: ``qifang instrument init EXPORT.xlsx``.

An office's own questionnaire asks most of what the bundled one asks, in its own
words. The draft matches each column of the export to the bundled instrument's
questions (as :func:`~analysis.ingest.load.load` does, then by the closest label),
and writes the bundled instrument back with:

* each column's title added to its question's ``aliases`` when it is not already a
  label (a guessed match is marked ``TODO`` in a comment beside the question);
* the questions the export does not have left out, and dimensions left without items;
* regions drafted from the region column's answers when they are not the bundled
  regions (codes ``r01`` …, English names to fill in);
* a rating scale drafted from the rating columns' answers when they are labels the
  bundled scale does not have (很满意 … 很不满意, highest first);
* a comment block at the top listing every column that matched nothing and every
  guess, so the office can check them before running ``qifang validate``.

The draft is a starting point for the office to edit, never used unseen: the
command refuses to overwrite an existing file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import InputFileError
from analysis.ingest._cells import Missing, fill_in, normalize
from analysis.ingest._coding import distinct
from analysis.ingest.headers import HeaderIndex, closest, header_key, metadata_role, title_of
from analysis.ingest.instrument import Instrument, load_instrument
from analysis.ingest.iorw import read_table

GUESS = 0.5  # a column this alike to a label (0–1) is proposed as that question


@dataclass
class Draft:
    """What the export's columns were matched to, and the instrument drafted from it."""

    text: str  # the YAML, with its comments
    matched: dict[str, str] = field(default_factory=dict)  # column -> question
    guessed: dict[str, str] = field(default_factory=dict)  # column -> question (check)
    unmatched: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # questions without a column


def draft_instrument(export: str | Path, base: str | Path | None = None, sheet=None) -> Draft:
    """Match an export's headers to an instrument's questions and draft a YAML.

    Parameters
    ----------
    export : the visits export (CSV or XLSX), as the survey tool wrote it.
    base : the instrument to start from; default the bundled one.
    sheet : the worksheet of a workbook.

    Returns
    -------
    Draft
        ``draft.text`` is the instrument YAML to write and edit.

    Examples
    --------
    >>> d = draft_instrument("tests/data/wjx/province_text.xlsx")  # doctest: +SKIP
    >>> d.unmatched                                              # doctest: +SKIP
    []
    """
    inst = load_instrument(base)
    spec = yaml.safe_load(Path(inst.source).read_text(encoding="utf-8"))
    index = HeaderIndex(inst.visits)
    raw = read_table(export, index.score, sheet=sheet)
    d = Draft(text="")
    columns: dict[str, list[int]] = {}
    aliases: dict[str, list[str]] = {}
    notes: dict[str, str] = {}
    for j, header in enumerate(raw.header):
        if not header.strip() or metadata_role(header)[0]:
            continue
        hit = index.match_in_group(header, "")
        if hit is not None:
            q = hit[0]
            d.matched[header] = q.name
            columns.setdefault(q.name, []).append(j)
            continue
        free = [q for q in inst.visits.fields if q.name not in columns]
        near = closest(header, free)
        if near is not None and near[1] >= GUESS:
            q = near[0]
            d.guessed[header] = q.name
            columns.setdefault(q.name, []).append(j)
            if q.type != "multi" or not header_key(header).startswith("("):  # not an option
                aliases.setdefault(q.name, []).append(title_of(header))
            notes[q.name] = f"TODO check: column {header!r} guessed as this question"
        else:
            d.unmatched.append(header)
    missing = Missing(inst.missing_labels)
    fields = spec["forms"]["visits"]["fields"]
    kept = []
    for raw_q in fields:
        q = inst.question(raw_q["name"])
        if q.name not in columns and not _has_stand_in(q):
            d.dropped.append(q.name)
            continue
        if aliases.get(q.name):
            raw_q["aliases"] = list(dict.fromkeys([*q.aliases, *aliases[q.name]]))
        kept.append(raw_q)
    spec["forms"]["visits"]["fields"] = kept
    used_dims = {q.get("dimension") for q in kept}
    spec["dimensions"] = [x for x in spec.get("dimensions", []) if x["name"] in used_dims]
    todo = [
        _regions(spec, inst, raw, columns, missing),
        _scale(spec, inst, raw, columns, missing),
        *_options(spec, inst, raw, columns, missing),
    ]
    d.text = _render(spec, d, notes, Path(export).name, [x for x in todo if x])
    return d


def _options(spec, inst: Instrument, raw, columns, missing) -> list[str]:
    """Options of multi-selects (joined in one cell) the export words differently: each
    is drafted as an alias of the closest option."""
    import difflib

    notes = []
    for q in inst.visits.fields:
        if q.type != "multi" or q.name not in columns:
            continue
        known = {normalize(k) for c in q.choices for k in (*c.names, c.label.zh)}
        for text in _values(raw, columns[q.name], missing):
            if normalize(text) in known or text in ("0", "1"):
                continue
            best = max(
                q.choices,
                key=lambda c: difflib.SequenceMatcher(
                    None, normalize(text), normalize(c.label.zh)
                ).ratio(),
            )
            ratio = difflib.SequenceMatcher(None, normalize(text), normalize(best.label.zh)).ratio()
            if ratio < GUESS:
                notes.append(f"TODO options: {text!r} of {q.name} matches no option")
                continue
            for c in spec["choices"][q.choice_list]:
                if c["value"] == best.value:
                    c["aliases"] = list(dict.fromkeys([*c.get("aliases", []), text]))
            notes.append(
                f"TODO options: {text!r} drafted as an alias of {best.label.zh} ({q.name})"
            )
    return notes


def _has_stand_in(q) -> bool:
    """序号 and 提交答卷时间 stand in for these; the wave comes from wave= or the dates."""
    return q.role in ("id", "wave") or (q.type == "date" and q.required)


def _values(raw, columns: list[int], missing) -> list[str]:
    seen: dict[str, None] = {}
    for j in columns:
        for text in distinct(raw, j)[1].to_pylist():
            main, _ = fill_in(text)
            if not missing(main):
                for part in re.split(r"[┋|;；]", main):
                    if part.strip():
                        seen[part.strip()] = None
    return list(seen)


def _regions(spec, inst: Instrument, raw, columns, missing) -> str | None:
    if "region" not in columns:
        return None
    q = inst.question("region")
    known = {normalize(k) for c in q.choices for k in c.names}
    values = _values(raw, columns["region"], missing)
    new = [v for v in values if normalize(v) not in known and not v.isdigit()]
    if not new or len(new) < len(values) / 2:
        return None
    name = q.choice_list or "region"
    spec["choices"][name] = [
        {"value": f"r{k:02d}", "zh": v, "en": v} for k, v in enumerate(sorted(new), 1)
    ]
    return (
        f"TODO regions: the list '{name}' was drafted from the {len(new)} answers of the region "
        "column: give each an English name (en), its administrative code (code) and short "
        "forms the export uses (aliases); set the region question's short label (市州 / 区县) "
        "and the scope words at the top"
    )


_HIGH = re.compile(r"(非常|很|十分|特别)满意")
_LOW = re.compile(r"(非常|很|十分|特别)不满意")


def _tone(label: str) -> int:
    if _LOW.search(label):
        return -2
    if "不" in label and "满意" in label:
        return -1
    if _HIGH.search(label):
        return 2
    if "满意" in label:
        return 1
    return 0


def _scale(spec, inst: Instrument, raw, columns, missing) -> str | None:
    items = [q for q in inst.items() if q.name in columns]
    if not items:
        return None
    values = _values(raw, [j for q in items for j in columns[q.name]], missing)
    known = {normalize(k) for c in items[0].choices for k in c.names}
    labels = [v for v in values if not v.isdigit()]
    if labels and all(normalize(v) in known for v in labels):
        return None
    if not labels:
        top = max((int(v) for v in values if v.isdigit()), default=0)
        if top and top != max(items[0].values):
            return (
                f"TODO scale: the ratings are numbers up to {top}, the instrument's scale ends at "
                f"{max(items[0].values)}: write the questionnaire's rating options (highest "
                "score first, as the questionnaire lists them) under choices"
            )
        return None
    ordered = sorted(labels, key=lambda v: (-_tone(v), labels.index(v)))
    name = f"rating{len(ordered)}"
    spec["choices"][name] = [
        {"value": len(ordered) - k, "zh": v, "en": v} for k, v in enumerate(ordered)
    ]
    for raw_q in spec["forms"]["visits"]["fields"]:
        if raw_q.get("type") == "likert":
            raw_q["choices"] = name
    return (
        f"TODO scale: the rating options {'、'.join(ordered)} were drafted as the list "
        f"'{name}', scored {len(ordered)} to 1: check the order (as the questionnaire lists "
        "them, highest first) and give English labels (en)"
    )


def _flow(value: Any) -> str:
    return yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10_000
    ).strip()


def _render(spec: dict, d: Draft, notes: dict[str, str], source: str, todo: list[str]) -> str:
    head = [
        f"# Drafted by `qifang instrument init {source}` from the bundled instrument.",
        "# Edit it, then check the export against it:",
        f"#   qifang validate {source} --instrument THIS_FILE.yaml",
        "# Question names (r_service …) are what briefs and rules know: keep them; labels,",
        "# aliases and choices are yours. See the README, 'Adapting the questionnaire'.",
        "#",
        f"# {len(d.matched)} column(s) matched a question, {len(d.guessed)} guessed (TODO "
        f"below), {len(d.unmatched)} matched nothing.",
    ]
    for line in todo:
        head.append(f"# {line}")
    if d.unmatched:
        head.append("# Columns that matched no question (add a question, or an alias to one):")
        head += [f"#   {h!r}" for h in d.unmatched]
    if d.dropped:
        head.append("# Questions of the bundled instrument without a column (left out):")
        head.append("#   " + ", ".join(d.dropped))
    body = {k: v for k, v in spec.items() if k not in ("forms", "choices")}
    out = ["\n".join(head), ""]
    out.append(yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100).strip())
    out.append("")
    out.append("choices:")
    for name, choices in spec.get("choices", {}).items():
        out.append(f"  {name}:")
        out += [f"    - {_flow(c)}" for c in choices]
    out.append("")
    out.append("forms:")
    for form, content in spec["forms"].items():
        out.append(f"  {form}:")
        out.append(f"    label: {_flow(content.get('label'))}")
        out.append("    fields:")
        for q in content["fields"]:
            note = f"  # {notes[q['name']]}" if form == "visits" and q["name"] in notes else ""
            out.append(f"      - {_flow(q)}{note}")
    return "\n".join(out) + "\n"


def write_draft(export: str | Path, out: str | Path, base=None, sheet=None) -> Draft:
    """Draft an instrument (:func:`draft_instrument`) and write it to ``out``, which
    must not exist yet."""
    out = Path(out)
    if out.exists():
        raise InputFileError(out, "already exists", "give another file name with -o")
    d = draft_instrument(export, base, sheet)
    out.write_text(d.text, encoding="utf-8")
    return d
