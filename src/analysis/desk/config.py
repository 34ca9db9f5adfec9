"""The desk's data folder and settings.

Everything the desk keeps is under one folder: ``desk.sqlite3`` (users, datasets, jobs),
``uploads/`` (raw files, stored once by SHA-256, read-only), ``runs/<job>/`` (each job's
output) and ``secret.key`` (signs the session cookies). Names in this folder come from
hashes and job numbers only, never from anything a user typed or uploaded.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from analysis.desk import db
from analysis.errors import QifangError

MB = 2**20


@dataclass(frozen=True)
class Desk:
    """Where the desk keeps its state, and how it runs jobs.

    Parameters
    ----------
    data : the data folder (made if missing).
    max_upload : the largest upload accepted, in bytes (default 200 MB).
    notebooks : the notebooks jobs run; default the project's ``notebooks/``.
    batch_workers : briefs a batch job makes at once.
    """

    data: Path
    max_upload: int = 200 * MB
    notebooks: Path | None = None
    batch_workers: int = 2

    @property
    def db(self) -> Path:
        return self.data / "desk.sqlite3"

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"

    @property
    def runs(self) -> Path:
        return self.data / "runs"

    def job_folder(self, job_id: int) -> Path:
        return self.runs / str(int(job_id))

    def upload_path(self, sha256: str, ext: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256")  # never a user's text
        return self.uploads / f"{sha256}.{ext}"

    def secret(self) -> str:
        return (self.data / "secret.key").read_text(encoding="ascii").strip()


def open_desk(data: str | Path, **settings) -> Desk:
    """Make (or open) the data folder, its database and its secret key."""
    data = Path(data).resolve()
    if data.exists() and not data.is_dir():
        raise QifangError(f"{data} is a file, not a folder", "give --data a folder")
    desk = Desk(data, **settings)
    for folder in (data, desk.uploads, desk.runs):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = data / "secret.key"
    if not key.exists():
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
    db.init(desk.db)
    return desk
