"""Ledgers as an office's files: the sample's three ledgers, copied and broken one cell
at a time, or written anew as Excel or a GBK CSV would have them."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from conftest import SAMPLE

NAMES = ("submissions", "events", "services")
ENCODING = {"submissions": "utf-8", "events": "utf-8", "services": "gbk"}


def copy_sample(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in NAMES:
        out[name] = folder / f"{name}.csv"
        shutil.copy(SAMPLE / f"{name}.csv", out[name])
    return out


def read_rows(path: Path, name: str) -> list[list[str]]:
    with open(path, encoding=ENCODING[name], newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, name: str, rows: list[list[str]]) -> None:
    with open(path, "w", encoding=ENCODING[name], newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)


def edit(paths: dict[str, Path], name: str, row: int, column: str, value: str) -> None:
    """Set one cell: ``row`` as numbered in the file (the header row of the submissions
    and events ledgers is 1; the services ledger has a title row above its header)."""
    rows = read_rows(paths[name], name)
    header = rows[1] if name == "services" else rows[0]
    rows[row - 1][header.index(column)] = value
    write_rows(paths[name], name, rows)


def cell(paths: dict[str, Path], name: str, row: int, column: str) -> str:
    rows = read_rows(paths[name], name)
    header = rows[1] if name == "services" else rows[0]
    return rows[row - 1][header.index(column)]


def ledgers(folder: Path, submissions, events, services=None) -> dict[str, Path]:
    """Small ledgers written as Excel-exported CSVs (UTF-8 with BOM), with English
    headers: ``submissions`` is rows of (id, kind, title, submitted, to, topic),
    ``events`` rows of (id, event, body, level, publication, leader, date)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {n: folder / f"{n}.csv" for n in NAMES}
    tables = {
        "submissions": (
            ["Submission ID", "Kind", "Title", "Date submitted", "Sent to", "Topic"],
            submissions,
        ),
        "events": (
            ["Submission ID", "Event", "Body", "Level", "Publication", "Leader", "Date"],
            events,
        ),
        "services": (
            ["Kind", "Date", "Region", "Firm key", "Firms", "Amount (CNY 10k)"],
            services or [["finance", "2025-03-01", "西宁", "", "10", "100"]],
        ),
    }
    for name, (header, rows) in tables.items():
        with open(paths[name], "w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows([header, *rows])
    return paths
