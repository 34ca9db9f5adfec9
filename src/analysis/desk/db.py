"""The desk's one store: a SQLite database in WAL mode in the desk's data folder.

Users, uploads, datasets and jobs live here and nowhere else, so the desk survives a
restart with its queue intact. Every process (the web server, each runner, each job's
worker) opens its own short-lived connections; WAL lets readers go on while one writer
commits, and ``busy_timeout`` makes a writer wait its turn instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    role     TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    hash     TEXT NOT NULL,
    epoch    INTEGER NOT NULL DEFAULT 0,   -- raised to end every session of the user
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key      TEXT NOT NULL,                -- 'user:<name>' or 'ip:<address>'
    at       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);
CREATE TABLE IF NOT EXISTS uploads (
    sha256   TEXT PRIMARY KEY,             -- the stored file is uploads/<sha256>.<ext>
    ext      TEXT NOT NULL CHECK (ext IN ('csv', 'xlsx', 'yaml')),
    bytes    INTEGER NOT NULL,
    original TEXT NOT NULL,                -- the name it was uploaded as: a label only
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,              -- the user's label, e.g. 2025年第二轮走访
    visits     TEXT NOT NULL REFERENCES uploads (sha256),
    requests   TEXT REFERENCES uploads (sha256),
    frame      TEXT NOT NULL REFERENCES uploads (sha256),
    errors     INTEGER NOT NULL,
    warnings   INTEGER NOT NULL,
    report     TEXT NOT NULL,              -- JSON: the validation report
    choices    TEXT NOT NULL,              -- JSON: waves, regions … found in the data
    created    REAL NOT NULL,
    created_by INTEGER REFERENCES users (id),
    deleted    REAL                        -- when an admin deleted it
);
CREATE TABLE IF NOT EXISTS jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('run', 'batch')),
    by          TEXT,                      -- a batch's region, industry or size
    dataset_id  INTEGER NOT NULL REFERENCES datasets (id),
    params      TEXT NOT NULL,             -- JSON: the chosen parameters (no paths)
    extras      TEXT NOT NULL DEFAULT '{}',-- JSON: uploaded rules/coding, by sha256
    user_id     INTEGER REFERENCES users (id),
    status      TEXT NOT NULL CHECK (status IN
                    ('queued', 'running', 'done', 'failed', 'cancelled')),
    created     REAL NOT NULL,
    started     REAL,
    finished    REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    runner      TEXT,                      -- which runner holds the lease
    token       TEXT,                      -- the claim; a stale worker's writes miss it
    lease_until REAL,
    cancel      INTEGER NOT NULL DEFAULT 0,
    progress    TEXT NOT NULL DEFAULT '{}',-- JSON: stage, notebooks' cells, briefs done
    error       TEXT,
    fix         TEXT,
    note        TEXT,                      -- e.g. requeued after a runner stopped
    folder      TEXT                       -- output, relative to the data folder
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, id);
"""


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection with the desk's settings; rows behave like dicts."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def init(path: str | Path) -> None:
    """Create the database (in WAL mode) or bring an existing one up to date."""
    with closing(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def closing(path: str | Path) -> Iterator[sqlite3.Connection]:
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(path: str | Path) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: the write lock is taken at the start, so two
    runners claiming at once are served one after the other, never both."""
    with closing(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
