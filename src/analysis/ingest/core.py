"""What a brief cannot do without, and the columns that were not read.

A brief stands on three parts of the questionnaire: the index's rating items, the
difficulties and (when the instrument has them) the support policies. If an export's
columns for them were not recognised, the brief would still be written, with an
index of "—" or one made of fewer items than the instrument defines, and blame the
sample size. So a missing or empty core column is an error, in ``qifang validate``
and ``qifang run`` alike, and the error names the labels it was compared with and the
closest column the file has.

A column that looks like a question (``12、…``) but matches no question is reported
as such, more loudly than other unread columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import Problem
from analysis.ingest._coding import problem
from analysis.ingest.headers import QUESTION_LIKE, closest, closest_header, title_of
from analysis.ingest.instrument import Form, Instrument, Question
from analysis.ingest.iorw import RawTable

LOOKS_LIKE_A_QUESTION = "looks like a question but matches none of the instrument's"


def policy_questions(inst: Instrument) -> list[Question]:
    """The support-policy questions (choices unaware / aware / benefited)."""
    return [
        q
        for q in inst.visits.fields
        if q.type == "single" and set(q.values) == {"unaware", "aware", "benefited"}
    ]


def core_questions(inst: Instrument) -> list[tuple[str, Question]]:
    """(part, question) of everything a brief's core rests on."""
    out = [("index", q) for q in inst.items()]
    if inst.has("difficulties"):
        out.append(("difficulties", inst.question("difficulties")))
    out += [("policies", q) for q in policy_questions(inst)]
    return out


def unread_columns(raw: RawTable, form: Form, unread: list[int], targets) -> list[Problem]:
    """A warning per column that matches no question, with the nearest question."""
    free = [q for q in form.fields if q.name not in targets]
    out = []
    for j in unread:
        header = raw.header[j]
        near = closest(header, free) or closest(header, list(form.fields))
        hint = f"; the closest question is '{near[0].short.zh}' ({near[0].name})" if near else ""
        if QUESTION_LIKE.match(header):
            message = (
                f"column {LOOKS_LIKE_A_QUESTION} {form.name} questions, so it is NOT read{hint}"
            )
            fix = (
                "if it is one of the instrument's questions, add its title to that question's "
                f"aliases in the instrument (aliases: [{title_of(header)}]); if it is not, "
                "nothing to do"
            )
        else:
            message = f"column is not a question of the {form.name} form; it is ignored{hint}"
            fix = "remove it, or add the question to the instrument"
        out.append(problem(raw, raw.header_row, header, None, message, fix, "warning"))
    return out


def _answered(q: Question, data: pd.DataFrame) -> int:
    cols = [c for c in q.columns if c in data]
    if not cols:
        return 0
    return int(np.asarray(data[cols].notna().any(axis=1)).sum())


def missing_core(
    raw: RawTable, inst: Instrument, data: pd.DataFrame, targets, unread: list[int]
) -> list[Problem]:
    """Errors for core questions the export has no column for, or no answer in; a
    warning when only some of the policy questions are missing."""
    headers = [raw.header[j] for j in unread]
    out: list[Problem] = []
    absent: dict[str, list[Question]] = {}
    for part, q in core_questions(inst):
        if q.name not in targets:
            absent.setdefault(part, []).append(q)
        elif _answered(q, data) == 0 and len(data):
            column = raw.header[targets[q.name][0][0]]
            out.append(
                problem(
                    raw,
                    raw.header_row,
                    column,
                    None,
                    f"no firm has an answer in the column of '{q.short.zh}' ({q.name}), which "
                    f"the brief needs for its {part}",
                    "check that this column holds the answers (export the data again, with "
                    "every question), or remove the question from the instrument",
                )
            )
    policies = policy_questions(inst)
    for part, qs in absent.items():
        if part == "policies" and len(qs) < len(policies):
            names = "、".join(q.short.zh for q in qs)
            out.append(
                problem(
                    raw,
                    raw.header_row,
                    None,
                    None,
                    f"no column for the policy question(s) {names}: the brief leaves them out",
                    "nothing to do if the questionnaire did not ask them; otherwise add the "
                    "column titles to their aliases in the instrument",
                    "warning",
                )
            )
            continue
        for q in qs:
            out.append(_not_found(raw, q, part, headers))
    return out


def _not_found(raw: RawTable, q: Question, part: str, headers: list[str]) -> Problem:
    labels = [q.label.zh, q.short.zh, *q.aliases]
    compared = "、".join(dict.fromkeys(f"'{x}'" for x in labels if x))
    near = closest_header(q, headers)
    asked = [h for h in headers if QUESTION_LIKE.match(h)]
    if near:
        found = f"; the closest unread column is {near[0]!r}"
    elif asked:
        listed = ", ".join(repr(h) for h in asked[:5]) + (" …" if len(asked) > 5 else "")
        found = f"; no unread column is close to it (unread question columns: {listed})"
    else:
        found = "; no unread column is close to it"
    what = {"index": "index rating item", "difficulties": "difficulties question"}.get(
        part, "policy question"
    )
    fix = (
        f"if {near[0]!r} is this question, add its title to the aliases of {q.name} in the "
        f"instrument (aliases: [{title_of(near[0])}])"
        if near
        else f"check that this is an export of the questionnaire, or add the title of the "
        f"column that holds it to the aliases of {q.name} in the instrument"
    )
    return problem(
        raw,
        raw.header_row,
        q.label.zh,
        None,
        f"no column is the {what} '{q.short.zh}' ({q.name}), compared with {compared}{found}; "
        f"without it the brief's {part} would be wrong or empty",
        fix,
    )
