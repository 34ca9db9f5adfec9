"""Upper bounds on every input, checked before a file is parsed.

A national survey's export is large but bounded; a zip bomb is not. Each export (CSV or
XLSX), ledger, frame and XLSForm is checked against:

=========================  ===========================  ================================
bound                      default                      raise it with
=========================  ===========================  ================================
bytes of one input file    2 GiB                        ``QIFANG_MAX_INPUT_BYTES=4G``
rows of one input file     5,000,000                    ``QIFANG_MAX_INPUT_ROWS=10000000``
=========================  ===========================  ================================

An XLSX workbook is a zip archive whose parts can expand a thousandfold: before openpyxl
opens one, each part's uncompressed size (as the archive declares it; Python's zipfile
never inflates a part beyond that) counts towards the byte bound, and a part of over
10 MB that expands more than :data:`MAX_RATIO` times is refused as a zip bomb.
YAML files have their own bound (:mod:`analysis.ingest.yamlfile`).
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import InputTooLargeError, ParameterError, clip

MAX_BYTES = 2 * 1024**3
MAX_ROWS = 5_000_000
MAX_RATIO = 200  # uncompressed / compressed, for a part of more than RATIO_FROM bytes
RATIO_FROM = 10_000_000
MAX_PARTS = 10_000  # parts of one workbook
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS


def limits() -> Limits:
    """The bounds in force: the defaults, or ``QIFANG_MAX_INPUT_BYTES`` and
    ``QIFANG_MAX_INPUT_ROWS`` from the environment (read at each call)."""
    return Limits(
        _env("QIFANG_MAX_INPUT_BYTES", MAX_BYTES, bytes_=True),
        _env("QIFANG_MAX_INPUT_ROWS", MAX_ROWS),
    )


def _env(name: str, default: int, bytes_: bool = False) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    m = re.fullmatch(r"(\d{1,15})\s*([kmgt]?)i?b?", raw.lower()) if bytes_ else None
    if m:
        return int(m[1]) * _UNITS[m[2]]
    if not bytes_ and raw.isdecimal() and len(raw) <= 15:
        return int(raw)
    raise ParameterError(
        f"{name}={clip(raw)!r} is not a {'size' if bytes_ else 'number'}",
        f"write e.g. {name}=" + ("4G (or 500M, or a number of bytes)" if bytes_ else "10000000"),
    )


def _how_to_raise(name: str) -> str:
    return (
        f"if the file is right, raise the bound: set {name} (e.g. "
        + ("QIFANG_MAX_INPUT_BYTES=4G" if "BYTES" in name else "QIFANG_MAX_INPUT_ROWS=10000000")
        + ") before running qifang"
    )


def check_size(path: str | Path) -> None:
    """Refuse a file larger than the byte bound, before reading it."""
    bound = limits().max_bytes
    size = Path(path).stat().st_size
    if size > bound:
        raise InputTooLargeError(
            path,
            f"{size:,} bytes, more than the bound of {bound:,}",
            _how_to_raise("QIFANG_MAX_INPUT_BYTES"),
        )


def check_rows(path: str | Path, rows: int) -> None:
    """Refuse a table with more rows than the row bound."""
    bound = limits().max_rows
    if rows > bound:
        raise InputTooLargeError(
            path,
            f"more than {bound:,} rows (the bound)"
            if rows == bound + 1
            else f"{rows:,} rows, more than the bound of {bound:,}",
            _how_to_raise("QIFANG_MAX_INPUT_ROWS"),
        )


def check_workbook(path: str | Path) -> None:
    """Refuse a workbook (zip) whose parts would expand past the bounds, before any
    part is inflated. A file that is not a zip archive is left to the reader to refuse.
    """
    bound = limits().max_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if len(parts) > MAX_PARTS:
        raise InputTooLargeError(
            path,
            f"a workbook of {len(parts):,} parts (at most {MAX_PARTS:,})",
            "open it in Excel and save it again as .xlsx, or export CSV",
        )
    total = 0
    for part in parts:
        total += part.file_size
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FROM and ratio > MAX_RATIO:
            raise InputTooLargeError(
                path,
                f"its part {clip(part.filename, 60)} would expand from "
                f"{part.compress_size:,} to {part.file_size:,} bytes ({ratio:,.0f} times): "
                "not a workbook Excel writes (a zip bomb?)",
                "open it in Excel and save it again as .xlsx, or export CSV",
            )
        if total > bound:
            raise InputTooLargeError(
                path,
                f"its parts would expand to more than {bound:,} bytes "
                f"(at {clip(part.filename, 60)})",
                _how_to_raise("QIFANG_MAX_INPUT_BYTES"),
            )
