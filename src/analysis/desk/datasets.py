"""Uploads and datasets: raw files stored once, read-only, by SHA-256; a dataset is a
user-named set of visits, requests ledger and frame, validated as ``qifang validate``
validates them.

Validation runs in a separate process (:class:`Validator`): a file that makes the
reader fail, or run out of memory, costs that process, not the web server.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import threading
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, BinaryIO

from analysis.desk import db
from analysis.desk.config import Desk
from analysis.errors import QifangError

SLOTS = ("visits", "requests", "frame")
REQUIRED = ("visits", "frame")
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}
RULE_EXTENSIONS = {".yaml": "yaml", ".yml": "yaml"}
MAX_STORED_PROBLEMS = 100_000
# The drop-downs of the brief form, filled from what the visits hold.
CHOICE_QUESTIONS = ("region", "industry", "size")


class UploadTooLarge(QifangError):
    pass


def check_label(name: str, what: str = "dataset name") -> str:
    """A user's name for a dataset: a label shown escaped, never part of a path."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not 1 <= len(name) <= 100 or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise QifangError(
            f"the {what} must be 1 to 100 characters without control characters",
            "give a short name, e.g. 2025年第二轮走访",
        )
    return name


def store(desk: Desk, stream: BinaryIO, original: str, kinds=EXTENSIONS) -> tuple[str, str]:
    """Copy an upload into ``uploads/`` once, read-only, named by its SHA-256.

    Returns
    -------
    (sha256, ext)

    Raises
    ------
    QifangError
        A file type that is not accepted, or a file over the size limit.
    """
    ext = kinds.get(Path(original or "").suffix.lower())
    if ext is None:
        accepted = "CSV or XLSX" if kinds is EXTENSIONS else "YAML"
        raise QifangError(
            f"{_clip(original)}: only {accepted} files are accepted",
            "save the file as .xlsx or .csv (UTF-8 or GBK) and upload it again"
            if kinds is EXTENSIONS
            else "upload a YAML file",
        )
    digest = hashlib.sha256()
    incoming = desk.uploads / f".incoming-{secrets.token_hex(8)}"
    size = 0
    try:
        with open(incoming, "xb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > desk.max_upload:
                    raise UploadTooLarge(
                        f"{_clip(original)} is larger than {desk.max_upload // 2**20} MB",
                        "upload a smaller file, or ask the administrator to raise --max-upload",
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise QifangError(f"{_clip(original)} is empty", "choose the exported file")
        sha = digest.hexdigest()
        final = desk.upload_path(sha, ext)
        if final.exists():
            incoming.unlink()
        else:
            os.chmod(incoming, 0o444)
            incoming.rename(final)
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    with db.transaction(desk.db) as conn:
        conn.execute(
            "INSERT OR IGNORE INTO uploads (sha256, ext, bytes, original, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (sha, ext, size, unicodedata.normalize("NFC", original)[:200], time.time()),
        )
    return sha, ext


def _clip(text: str, limit: int = 80) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inspect_files(paths: dict[str, str]) -> dict[str, Any]:
    """Validate one dataset's files as ``qifang validate`` does (run in the validator
    process). Returns plain data: the problems, each file's reading, and the values
    the brief form offers."""
    from analysis.ingest.instrument import load_instrument
    from analysis.ingest.validate import validate

    slot_of = {path: slot for slot, path in paths.items()}
    inst = load_instrument()
    try:
        report = validate(list(paths.values()), instrument=inst)
    except QifangError as exc:
        return _failed_report(f"{exc}")
    except Exception as exc:  # a bug in reading, not the user's fault: say so, keep serving
        return _failed_report(f"internal error: {type(exc).__name__}: {exc}")
    problems = [
        {
            "slot": slot_of.get(p.path, ""),
            "row": p.row,
            "column": p.column,
            "value": p.value,
            "message": p.message,
            "fix": p.fix,
            "severity": p.severity,
        }
        for p in report.problems
    ]
    files = {}
    visits = None
    for ld in report.loaded:
        slot = slot_of.get(ld.provenance.path, "")
        prov = ld.provenance
        files[slot] = {
            "form": ld.form,
            "rows": prov.rows,
            "read_as": prov.encoding or f"sheet {prov.sheet}",
        }
        if ld.form != slot:
            problems.append(
                _whole_file(
                    slot,
                    f"this file reads as a {ld.form} file, not {slot}",
                    f"put it in the {ld.form} field",
                )
            )
        elif slot == "visits":
            visits = ld.data
    for slot in paths:
        if slot not in files and not any(p["slot"] == slot for p in problems):
            problems.append(_whole_file(slot, "the file could not be read", "check the file"))
    choices = _choices(visits, inst) if visits is not None else {}
    errors = sum(p["severity"] == "error" for p in problems)
    return {
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": problems[:MAX_STORED_PROBLEMS],
        "more": max(0, len(problems) - MAX_STORED_PROBLEMS),
        "files": files,
        "choices": choices,
    }


def _whole_file(slot: str, message: str, fix: str) -> dict:
    return {
        "slot": slot,
        "row": None,
        "column": None,
        "value": None,
        "message": message,
        "fix": fix,
        "severity": "error",
    }


def _failed_report(message: str) -> dict:
    return {
        "errors": 1,
        "warnings": 0,
        "more": 0,
        "files": {},
        "choices": {},
        "problems": [_whole_file("", message, "check the files and upload them again")],
    }


def _choices(visits, inst) -> dict[str, list]:
    out: dict[str, list] = {"wave": [str(int(w)) for w in sorted(visits["wave"].dropna().unique())]}
    for name in CHOICE_QUESTIONS:
        if name not in visits.columns:
            continue
        present = set(visits[name].dropna().astype(str))
        out[name] = [
            [str(c.value), c.label.zh, c.label.en]
            for c in inst.question(name).choices
            if str(c.value) in present
        ]
    return out


def _exit_with(parent: int) -> None:
    """In the validating process: exit when the desk's process is gone (a desk that
    crashed, or was killed, would otherwise leave it and its resource tracker behind)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="qifang-parent-watch", daemon=True).start()


class Validator:
    """One long-lived process that validates uploads; replaced if a file breaks it."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, initializer=_exit_with, initargs=(os.getpid(),)
            )
        return self._pool

    def inspect(self, paths: dict[str, str]) -> dict[str, Any]:
        try:
            return self._executor().submit(inspect_files, paths).result()
        except BrokenProcessPool:
            self._pool = None
            return _failed_report(
                "the files could not be read: reading them stopped the validating process "
                "(too large or damaged)"
            )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def create(desk: Desk, name: str, uploads: dict[str, str], report: dict, user_id) -> int:
    """Record a dataset (whatever its validation found; errors keep it from running)."""
    with db.transaction(desk.db) as conn:
        cur = conn.execute(
            "INSERT INTO datasets (name, visits, requests, frame, errors, warnings, report, "
            "choices, created, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                check_label(name),
                uploads["visits"],
                uploads.get("requests"),
                uploads["frame"],
                report["errors"],
                report["warnings"],
                json.dumps(
                    {k: report[k] for k in ("problems", "more", "files")}, ensure_ascii=False
                ),
                json.dumps(report["choices"], ensure_ascii=False),
                time.time(),
                user_id,
            ),
        )
        return cur.lastrowid


def get(desk: Desk, dataset_id: int, *, deleted: bool = False) -> dict | None:
    with db.closing(desk.db) as conn:
        row = conn.execute(
            "SELECT d.*, u.name AS user FROM datasets d LEFT JOIN users u "
            "ON u.id = d.created_by WHERE d.id = ?",
            (dataset_id,),
        ).fetchone()
        if row is None or (row["deleted"] and not deleted):
            return None
        out = dict(row)
        out["report"] = json.loads(out["report"])
        out["choices"] = json.loads(out["choices"])
        out["files"] = {}
        for slot in SLOTS:
            if out[slot]:
                up = conn.execute("SELECT * FROM uploads WHERE sha256 = ?", (out[slot],)).fetchone()
                out["files"][slot] = dict(up)
    return out


@functools.lru_cache(maxsize=256)
def _choices_of(db_path: str, dataset_id: int) -> str:
    with db.closing(db_path) as conn:
        row = conn.execute("SELECT choices FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
    return row["choices"] if row is not None else "{}"


def choices(desk: Desk, dataset_id: int) -> dict:
    """The values a dataset offers in the form (they never change once recorded)."""
    return json.loads(_choices_of(str(desk.db), dataset_id))


def listing(desk: Desk) -> list[dict]:
    with db.closing(desk.db) as conn:
        rows = conn.execute(
            "SELECT d.id, d.name, d.errors, d.warnings, d.created, u.name AS user, "
            "(SELECT count(*) FROM jobs j WHERE j.dataset_id = d.id) AS runs "
            "FROM datasets d LEFT JOIN users u ON u.id = d.created_by "
            "WHERE d.deleted IS NULL ORDER BY d.id DESC"
        ).fetchall()
    return [dict(r) for r in rows]


def paths(desk: Desk, dataset: dict) -> dict[str, str]:
    """The stored files of a dataset, as run parameters (``requests`` empty if none)."""
    out = {"requests": ""}
    for slot, up in dataset["files"].items():
        out[slot] = str(desk.upload_path(up["sha256"], up["ext"]))
    return out


def delete(desk: Desk, dataset_id: int) -> None:
    """Delete a dataset (an admin's act): its queued jobs are cancelled, its raw files
    removed unless another dataset uses them. Past runs stay in the history."""
    with db.transaction(desk.db) as conn:
        row = conn.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        if row is None or row["deleted"]:
            return
        conn.execute("UPDATE datasets SET deleted = ? WHERE id = ?", (time.time(), dataset_id))
        conn.execute(
            "UPDATE jobs SET status = 'cancelled', finished = ?, note = 'dataset deleted' "
            "WHERE dataset_id = ? AND status = 'queued'",
            (time.time(), dataset_id),
        )
        conn.execute(
            "UPDATE jobs SET cancel = 1 WHERE dataset_id = ? AND status = 'running'", (dataset_id,)
        )
        orphans = []
        for slot in SLOTS:
            sha = row[slot]
            if not sha:
                continue
            used = conn.execute(
                "SELECT count(*) FROM datasets WHERE deleted IS NULL AND "
                "(visits = ? OR requests = ? OR frame = ?)",
                (sha, sha, sha),
            ).fetchone()[0]
            if not used:
                orphans.append(sha)
        for sha in orphans:
            up = conn.execute("SELECT ext FROM uploads WHERE sha256 = ?", (sha,)).fetchone()
            if up is not None:
                desk.upload_path(sha, up["ext"]).unlink(missing_ok=True)
