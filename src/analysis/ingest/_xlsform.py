"""Read an XLSForm workbook into the instrument spec that :mod:`analysis.ingest.instrument` builds.

XLSForm is the spreadsheet format of ODK, KoboToolbox and SurveyCTO: a ``survey`` sheet
(``type``, ``name``, ``label::zh``, ``label::en``, ``required``, ``constraint``) and a
``choices`` sheet (``list_name``, ``name``, labels). Qifang also reads two optional
columns of the survey sheet: ``dimension`` (index dimension of a rating item) and
``personal`` (contact data). A ``select_one`` whose choice names are all integers is a
rating (likert). The XLSForm defines the visit questionnaire; the ledger and frame
forms, and the index dimensions, come from the bundled instrument.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analysis.errors import InstrumentError

_SKIP = {
    "begin group",
    "end group",
    "begin repeat",
    "end repeat",
    "note",
    "calculate",
    "hidden",
    "start",
    "end",
    "today",
    "deviceid",
    "phonenumber",
    "username",
    "simserial",
    "subscriberid",
    "audit",
    "begin_group",
    "end_group",
}
_NUMBER = {"integer": True, "decimal": False, "range": False}
_TRUE = {"yes", "true", "1", "true()", "y"}


def read_xlsform(path: Path, default_spec: dict[str, Any]) -> dict[str, Any]:
    import openpyxl

    from analysis.ingest.limits import check_workbook

    check_workbook(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InstrumentError(
            f"{path}: cannot be opened as an Excel workbook ({type(exc).__name__})",
            "save the XLSForm as .xlsx from Excel or LibreOffice",
        ) from None
    sheets = {name.strip().lower(): book[name] for name in book.sheetnames}
    if "survey" not in sheets:
        raise InstrumentError(
            f"{path}: no 'survey' sheet (sheets: {', '.join(book.sheetnames)})",
            "an XLSForm needs a sheet named 'survey' (and 'choices' for select questions)",
        )
    survey = _rows(sheets["survey"])
    choices = _rows(sheets["choices"]) if "choices" in sheets else []
    settings = _rows(sheets["settings"]) if "settings" in sheets else []

    lists: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(choices, 2):
        list_name = row.get("list_name") or row.get("list name")
        if not list_name:
            continue
        if not row.get("name"):
            raise InstrumentError(
                f"{path.name} [choices] row {i}: choice without a name", "fill in its name"
            )
        zh, en = _labels(row)
        name = row["name"]
        lists.setdefault(list_name, []).append({"value": name, "zh": zh, "en": en})
    for options in lists.values():
        if all(re.fullmatch(r"-?\d+", str(o["value"])) for o in options):
            for o in options:
                o["value"] = int(o["value"])

    fields = []
    for i, row in enumerate(survey, 2):
        qtype = re.sub(r"\s+", " ", str(row.get("type") or "")).strip().lower()
        if not qtype or qtype in _SKIP:
            continue
        field: dict[str, Any] = {"name": row.get("name")}
        parts = qtype.split(" ")
        if parts[0] in ("select_one", "select_multiple") and len(parts) == 2:
            options = lists.get(parts[1])
            if options is None:
                raise InstrumentError(
                    f"{path.name} [survey] row {i}: choice list {parts[1]!r} is not in the "
                    "choices sheet",
                    "add the list to the choices sheet or correct the type",
                )
            field["choices"] = parts[1]
            if parts[0] == "select_multiple":
                field["type"] = "multi"
            else:
                numeric = all(isinstance(o["value"], int) for o in options)
                field["type"] = "likert" if numeric else "single"
        elif parts[0] in _NUMBER:
            field["type"] = "number"
            field["integer"] = _NUMBER[parts[0]]
            field.update(_bounds(str(row.get("constraint") or "")))
        elif parts[0] in ("date", "datetime"):
            field["type"] = "date"
        elif parts[0] == "text":
            field["type"] = "text"
        else:
            raise InstrumentError(
                f"{path.name} [survey] row {i}: question type {qtype!r} is not supported",
                "use select_one, select_multiple, integer, decimal, text or date",
            )
        zh, en = _labels(row)
        field["label"] = {"zh": zh, "en": en}
        field["required"] = str(row.get("required") or "").strip().lower() in _TRUE
        if row.get("dimension"):
            field["dimension"] = row["dimension"]
        if str(row.get("personal") or "").strip().lower() in _TRUE:
            field["personal"] = True
        if row.get("name") in ("visit_id",):
            field["role"] = "id"
        if row.get("name") in ("wave",):
            field["role"] = "wave"
        fields.append(field)
    if not fields:
        raise InstrumentError(
            f"{path.name}: the survey sheet has no questions", "add questions to the survey sheet"
        )

    spec = dict(default_spec)
    spec["choices"] = {**default_spec.get("choices", {}), **lists}
    spec["forms"] = {
        **default_spec["forms"],
        "visits": {"label": default_spec["forms"]["visits"].get("label"), "fields": fields},
    }
    meta = settings[0] if settings else {}
    if meta.get("form_id"):
        spec["id"] = meta["form_id"]
    if meta.get("version"):
        spec["version"] = meta["version"]
    if meta.get("form_title"):
        spec["title"] = {"zh": meta["form_title"], "en": meta["form_title"]}
    return spec


def _rows(sheet) -> list[dict[str, Any]]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        return []
    keys = [str(h).strip() if h is not None else "" for h in header]
    out = []
    for values in rows:
        row = {
            k: (v.strip() if isinstance(v, str) else v)
            for k, v in zip(keys, values, strict=False)
            if k and v not in (None, "")
        }
        if row:
            out.append(row)
    return out


def _labels(row: dict[str, Any]) -> tuple[str, str]:
    """zh and en labels from ``label::zh``, ``label::Chinese (zh)``, ``label::en`` …; a
    workbook with one language uses it for both."""
    zh = en = None
    for key, value in row.items():
        low = key.lower()
        if not low.startswith("label"):
            continue
        lang = low.split("::", 1)[1] if "::" in low else ""
        if "zh" in lang or "chinese" in lang or "中文" in lang:
            zh = str(value)
        elif "en" in lang or "english" in lang:
            en = str(value)
        elif not lang:
            text = str(value)
            if re.search(r"[\u4e00-\u9fff]", text):
                zh = zh or text
            else:
                en = en or text
    zh = zh or en
    en = en or zh
    if not zh:
        raise InstrumentError(
            f"question or choice {row.get('name')!r} has no label",
            "fill in label::zh (and label::en)",
        )
    return zh, en


def _bounds(constraint: str) -> dict[str, float]:
    out: dict[str, float] = {}
    low = re.search(r"\.\s*>=?\s*(-?\d+(?:\.\d+)?)", constraint)
    high = re.search(r"\.\s*<=?\s*(-?\d+(?:\.\d+)?)", constraint)
    if low:
        out["min"] = float(low.group(1))
    if high:
        out["max"] = float(high.group(1))
    return out
