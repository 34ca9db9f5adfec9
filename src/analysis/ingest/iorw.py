"""All file input and output of Qifang in one place: reading survey exports as raw
text (encoding detection, CSV and XLSX), writing CSV, hashing, and atomic writes.

Raw inputs are only ever opened for reading.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputFileError, clip
from analysis.ingest import limits


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def release_memory() -> None:
    """Give freed memory back to the operating system.

    Reading a large export leaves hundreds of MB freed but held by Arrow's memory pool
    and by glibc's heap; the statistics that follow would then add to that, not reuse
    it. Called after loading a large file; a no-op where glibc is not the allocator.
    """
    import contextlib
    import ctypes
    import gc
    import sys

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        # musl and other C libraries have no malloc_trim
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` as UTF-8 CSV, fast (pyarrow) and byte-for-byte reproducible.

    Whole-number floats are written without a decimal point (a rating of 4.0 as ``4``),
    missing values as empty cells, dates as ``YYYY-MM-DD``.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = {}
    for name, s in df.items():
        if pd.api.types.is_float_dtype(s) and bool(((s.dropna() % 1) == 0).all()):
            s = s.astype("Int64")  # 4.0 -> 4, NaN -> empty
        elif pd.api.types.is_datetime64_any_dtype(s) and bool(
            (s.dropna().dt.normalize() == s.dropna()).all()
        ):
            s = s.dt.date  # a date without a time of day
        cols[name] = s
    table = pa.Table.from_pandas(pd.DataFrame(cols), preserve_index=False)
    table = table.replace_schema_metadata(None)
    pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))


# --- reading survey exports -------------------------------------------------------


_CHUNK = 1 << 20
_HEAD_ROWS = 12  # a header may sit below a few title rows
_EXCEL_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class RawTable:
    """A file's cells as text, before any meaning is given to them.

    ``columns`` holds one pyarrow string array per header cell, in file order;
    ``row_numbers`` the spreadsheet row number of each data row (the header row is
    ``header_row``); ``group`` the row above the header, filled across merged cells
    (a two-row header: 主要困难 over 融资难融资贵, 招工难 …), or empty; ``bad_rows``
    lists rows that could not be split into the header's number of cells, as (row,
    message); ``bad_cells`` cells that cannot be trusted, as (row, column index,
    value, message).
    """

    path: str
    header: list[str]
    columns: list
    nrows: int
    encoding: str | None
    sheet: str | None
    header_row: int
    row_numbers: np.ndarray
    group: list[str] = field(default_factory=list)
    bad_rows: list[tuple[int | None, str]] = field(default_factory=list)
    bad_cells: list[tuple[int, int, str, str]] = field(default_factory=list)


Score = Callable[[list[str], list[str]], int]


def _filled(row: list[str]) -> list[str]:
    """A group-header row with each merged (blank) cell taking the label to its left."""
    out, last = [], ""
    for cell in row:
        last = cell.strip() or last
        out.append(last)
    return out


def _best_header(rows: list[list[str]], score: Score) -> tuple[int, int]:
    """The index and score of the best header among the first rows: each candidate is
    scored together with the row above it, which may be a group header."""
    scores = [score(row, _filled(rows[i - 1]) if i else []) for i, row in enumerate(rows)]
    best = max(range(len(rows)), key=lambda i: (scores[i], -i))
    return best, scores[best]


def read_table(path: str | Path, score: Score, sheet: str | None = None) -> RawTable:
    """Read a CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030) or XLSX export as text.

    Parameters
    ----------
    path : the export.
    score : how many cells of a candidate header row (given the row above it, a
        possible group header) are recognised; the header is the best-scoring of the
        first rows (title rows above it are skipped), and for a workbook the sheet is
        the best-scoring sheet unless ``sheet`` is given.
    sheet : the worksheet to read from a workbook.

    Raises
    ------
    InputFileError
        Missing, empty, binary, old ``.xls``, undecodable or unparsable files.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found", "check the path")
    limits.check_size(path)
    with open(path, "rb") as f:
        head = f.read(8192)
    if not head.strip():
        raise InputFileError(path, "the file is empty", "export the survey data again")
    if head.startswith(_EXCEL_MAGIC):
        return _read_xlsx(path, score, sheet)
    if head.startswith(_OLE_MAGIC):
        raise InputFileError(
            path, "this is an old Excel .xls workbook", "open it in Excel and save as .xlsx or CSV"
        )
    if _is_web_page(head):
        named = f", although its name ends in {path.suffix}" if path.suffix else ""
        raise InputFileError(
            path,
            f"this is a web page (HTML), not a spreadsheet{named}",
            "open it in Excel and save it as an Excel workbook (.xlsx), or download the "
            "answers from the survey tool again as .xlsx or CSV",
        )
    if sheet is not None:
        raise InputFileError(
            path,
            f"--sheet {sheet!r} given, but this is a text file, not a workbook",
            "leave out --sheet for CSV files",
        )
    encoding = detect_encoding(path, head)
    return _read_csv(path, encoding, score)


def _is_web_page(head: bytes) -> bool:
    """Some tools (and old 问卷星 downloads) save an HTML table with an .xls name."""
    import re

    start = head.lstrip(codecs.BOM_UTF8).lstrip()[:512].lower()
    return start.startswith(b"<") and bool(
        re.match(rb"<(!doctype\s+html|html|table|meta|head|body|\?xml[^>]*>\s*<html)", start)
    )


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM) or GB18030, decided by decoding
    the whole file; GB18030 is a superset of GBK and GB2312."""
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if b"\x00" in head:
            odd = head[1::2].count(b"\x00") > len(head) // 4
            even = head[0::2].count(b"\x00") > len(head) // 4
            if odd != even:  # every other byte zero: UTF-16 text without its byte-order mark
                raise InputFileError(
                    path,
                    "this looks like UTF-16 text without a byte-order mark",
                    "save it in Excel as 'CSV UTF-8 (comma delimited)' and load it again",
                )
            raise InputFileError(
                path,
                "this is a binary file, not a CSV export",
                "export the survey as CSV or XLSX from the survey tool",
            )
        candidates = ["utf-8", "gb18030"]
    failures = []  # (byte offset of the first undecodable bytes, encoding, bytes)
    for enc in candidates:
        decoder = codecs.getincrementaldecoder(enc)()
        offset = 0
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(_CHUNK), b""):
                    decoder.decode(block)
                    offset += len(block)
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError as exc:
            failures.append((offset + exc.start, enc, exc.object[exc.start : exc.start + 4]))
    pos, enc, raw = max(failures)  # the encoding that read furthest is the likely one
    with open(path, "rb") as f:
        line = f.read(pos).count(b"\n") + 1
    others = [e for _, e, _ in failures if e != enc]
    also = f" (nor is the file {others[0].upper()})" if others else ""
    raise InputFileError(
        path,
        f"line {line}: bytes {raw!r} are not {enc.upper()} text{also}",
        "save the file as 'CSV UTF-8' in Excel (or re-export it); a file that mixes "
        "encodings must be re-saved in one",
    )


def _read_csv(path: Path, encoding: str, score: Score) -> RawTable:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, encoding=encoding, newline="") as f:
        text = f.read(256 * 1024)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, lines = [], []
    limit = csv.field_size_limit(1 << 30)  # a huge cell is reported later, by its length
    try:
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
            if len(rows) >= _HEAD_ROWS:
                break
    except csv.Error as exc:
        raise InputFileError(
            path, f"cannot be read as CSV ({exc})", "re-export the file as CSV"
        ) from None
    finally:
        csv.field_size_limit(limit)
    if not rows:
        raise InputFileError(path, "the file has no rows", "export the survey data again")
    best, points = _best_header(rows, score)
    if points == 0:
        best = 0
    header = [h.strip() for h in rows[best]]
    group = _filled(rows[best - 1])[: len(header)] if best else []
    bad: list[tuple[int | None, str]] = []

    def on_bad_row(row) -> str:
        bad.append(
            (None, f"{row.actual_columns} cells where the header has {row.expected_columns}")
        )
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding == "utf-8-sig" else encoding,
                skip_rows=lines[best],
                column_names=names,
                block_size=1 << 24,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad_row
            ),
            convert_options=pacsv.ConvertOptions(
                # dictionary-encoded: integer codes and the distinct texts, which is
                # all the coding needs, at a fraction of the memory of plain text
                column_types={n: pa.dictionary(pa.int32(), pa.string()) for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "straddling" in str(exc) or "block boundaries" in str(exc):
            _refuse_huge_cell(path, encoding, delimiter, header, best)
        raise InputFileError(
            path, f"cannot be read as CSV ({clip(str(exc), 300)})", "re-export the file as CSV"
        ) from None
    limits.check_rows(path, table.num_rows)
    if bad:
        bad = _locate_bad_rows(path, encoding, delimiter, len(header), best)
    return RawTable(
        path=str(path),
        header=header,
        columns=[table.column(n) for n in names],
        nrows=table.num_rows,
        encoding=encoding.replace("-sig", " with BOM"),
        sheet=None,
        header_row=best + 1,
        row_numbers=np.arange(best + 2, best + 2 + table.num_rows),
        group=group,
        bad_rows=bad,
    )


def _refuse_huge_cell(path: Path, encoding: str, delimiter: str, header, header_index: int):
    """A row too long for the fast reader's blocks (16 MB) holds a cell no survey answer
    has: find it (a slow pass, paid only by such files) and say where it is."""
    from analysis.errors import Problem, ValidationError
    from analysis.ingest._cells import MAX_TEXT

    limit = csv.field_size_limit(1 << 30)
    try:
        with open(path, encoding=encoding, newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            for i, row in enumerate(reader):
                for j, cell in enumerate(row):
                    if i > header_index and len(cell) > MAX_TEXT:
                        column = header[j] if j < len(header) else f"column {j + 1}"
                        raise ValidationError(
                            [
                                Problem(
                                    str(path),
                                    reader.line_num,
                                    column,
                                    cell[:40],
                                    f"an answer of {len(cell):,} characters (the limit is "
                                    f"{MAX_TEXT:,})",
                                    "check the export: a cell this long is not a survey answer",
                                )
                            ]
                        )
    finally:
        csv.field_size_limit(limit)


def _locate_bad_rows(path: Path, encoding: str, delimiter: str, width: int, header_index: int):
    """Find the row numbers of rows with the wrong number of cells. Only runs when the
    fast reader found some, so the slow pure-Python pass is paid only by broken files."""
    out = []
    with open(path, encoding=encoding, newline="") as f:
        for i, row in enumerate(csv.reader(f, delimiter=delimiter)):
            if i > header_index and len(row) != width and any(c.strip() for c in row):
                out.append((i + 1, f"{len(row)} cells where the header has {width}"))
    return out


def _cell_text(value) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, score: Score, sheet: str | None) -> RawTable:
    import openpyxl
    import pyarrow as pa

    limits.check_workbook(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, KeyError, lxml errors… all mean "not a workbook"
        raise InputFileError(
            path,
            f"cannot be opened as an Excel workbook ({type(exc).__name__})",
            "open it in Excel and save it again as .xlsx, or export CSV",
        ) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputFileError(
                path,
                f"no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})",
                "give one of the sheet names with --sheet",
            )
        # a hidden sheet (an old copy, a lookup list) is read only when named
        visible = [n for n in book.sheetnames if book[n].sheet_state == "visible"]
        if sheet is None and not visible:
            raise InputFileError(
                path,
                f"every sheet of the workbook is hidden ({', '.join(book.sheetnames)})",
                "give the sheet that holds the answers with --sheet",
            )
        candidates = [sheet] if sheet else visible
        found = []
        for name in candidates:
            head = [
                [_cell_text(v).strip() for v in row]
                for row in book[name].iter_rows(max_row=_HEAD_ROWS, values_only=True)
            ]
            if head:
                best, points = _best_header(head, score)
                group = _filled(head[best - 1]) if best else []
                found.append((points, name, best, head[best], group))
        if not found:
            raise InputFileError(path, "the workbook has no rows", "export the survey data again")
        points, name, best, header, group = max(found, key=lambda t: t[0])
        if points == 0 and sheet is None and len(candidates) > 1:
            raise InputFileError(
                path,
                f"no visible sheet looks like a survey export (sheets: {', '.join(visible)})",
                "give the sheet that holds the answers with --sheet, or check that this is "
                "the right file",
            )
        while header and not header[-1]:
            header.pop()
        width = len(header)
        group = group[:width]
        cells: list[list[str]] = [[] for _ in range(width)]
        numbers = []
        bound = limits.limits().max_rows
        for number, row in enumerate(
            book[name].iter_rows(min_row=best + 2, values_only=True), start=best + 2
        ):
            if len(numbers) >= bound:
                limits.check_rows(path, bound + 1)
            texts = [_cell_text(v) for v in row[:width]]
            if not any(t.strip() for t in texts):
                continue  # Excel keeps formatted empty rows
            texts += [""] * (width - len(texts))
            for j, t in enumerate(texts):
                cells[j].append(t)
            numbers.append(number)
    finally:
        book.close()
    return RawTable(
        path=str(path),
        header=header,
        columns=[pa.chunked_array([pa.array(c, type=pa.string())]) for c in cells],
        nrows=len(numbers),
        encoding=None,
        sheet=name,
        header_row=best + 1,
        row_numbers=np.array(numbers, dtype=np.int64),
        group=group,
        bad_cells=_uncalculated(path, name, best + 2, width, cells, numbers),
    )


def _uncalculated(path: Path, sheet: str, first: int, width: int, cells, numbers) -> list:
    """Formula cells whose result Excel never calculated (files written by programs):
    their value is unknown, so they are reported rather than read as blanks."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    row_of = {n: i for i, n in enumerate(numbers)}
    out = []
    try:
        for number, row in enumerate(
            book[sheet].iter_rows(min_row=first, max_col=width, values_only=True), start=first
        ):
            for j, value in enumerate(row):
                formula = isinstance(value, str) and value.startswith("=") and number in row_of
                if formula and not cells[j][row_of[number]].strip():
                    out.append((number, j, value, "formula without a calculated value"))
    finally:
        book.close()
    return out
