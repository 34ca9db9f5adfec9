"""Accounts: argon2 password hashes, roles, and slowing down repeated failed logins.

``qifang user add NAME --role staff|admin`` creates an account (or resets its password
and role). Staff upload data and run briefs; admins also manage users and delete
datasets. After :data:`FREE_FAILURES` failed logins within :data:`WINDOW` seconds, for
one account or from one address, each further attempt must wait twice as long as the
one before (up to :data:`MAX_WAIT`); the password is not even checked meanwhile.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from analysis.desk import db
from analysis.errors import QifangError

ROLES = ("staff", "admin")
FREE_FAILURES = 5
WINDOW = 15 * 60
MAX_WAIT = 15 * 60
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) parameters
# Verified against when the name is unknown, so that both cases take the same time.
_DUMMY = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    epoch: int

    @property
    def admin(self) -> bool:
        return self.role == "admin"


class LoginRefused(QifangError):
    """A login that failed; ``wait`` is set when attempts are being slowed down."""

    def __init__(self, message: str, fix: str, wait: int = 0) -> None:
        super().__init__(message, fix)
        self.wait = wait


def check_name(name: str) -> str:
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not 1 <= len(name) <= 64 or any(
        unicodedata.category(c)[0] in "CZ" and c != " " for c in name
    ):
        raise QifangError(
            "a user name is 1 to 64 letters, digits or signs, without control characters",
            "choose another name",
        )
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise QifangError(
            f"the password is shorter than {MIN_PASSWORD} characters", "choose a longer one"
        )
    return password


def add(path, name: str, role: str, password: str, *, replace: bool = False) -> User:
    """Create an account, or with ``replace`` reset an existing one's role and password
    (which also ends its sessions)."""
    name = check_name(name)
    if role not in ROLES:
        raise QifangError(f"role {role!r} is not known", "use --role staff or --role admin")
    digest = _hasher.hash(check_password(password))
    with db.transaction(path) as conn:
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        if row is not None and not replace:
            raise QifangError(f"user {name!r} exists already", "choose another name")
        if row is None:
            conn.execute(
                "INSERT INTO users (name, role, hash, created) VALUES (?, ?, ?, ?)",
                (name, role, digest, time.time()),
            )
        else:
            conn.execute(
                "UPDATE users SET role = ?, hash = ?, epoch = epoch + 1 WHERE id = ?",
                (role, digest, row["id"]),
            )
    return get_by_name(path, name)


def get(path, user_id: int) -> User | None:
    with db.closing(path) as conn:
        row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user(row)


def get_by_name(path, name: str) -> User | None:
    with db.closing(path) as conn:
        row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return _user(row)


def all_users(path) -> list[User]:
    with db.closing(path) as conn:
        rows = conn.execute("SELECT * FROM users ORDER BY name").fetchall()
    return [_user(r) for r in rows]


def count(path) -> int:
    with db.closing(path) as conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def delete(path, user_id: int) -> None:
    with db.transaction(path) as conn:
        conn.execute("DELETE FROM users WHERE id = ?", (user_id,))


def _user(row) -> User | None:
    return None if row is None else User(row["id"], row["name"], row["role"], row["epoch"])


def login(path, name: str, password: str, address: str, now: float | None = None) -> User:
    """Check a login.

    Raises
    ------
    LoginRefused
        Wrong name or password (the same message for both), or too many recent
        failures for this account or from this address (with the seconds to wait).
    """
    now = time.time() if now is None else now
    name = unicodedata.normalize("NFC", (name or "").strip())
    keys = (f"user:{name}", f"ip:{address}")
    wait = waiting(path, keys, now)
    if wait > 0:
        raise LoginRefused(
            "too many failed logins", f"wait {wait} seconds and try again", wait=wait
        )
    with db.closing(path) as conn:
        row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    try:
        _hasher.verify(row["hash"] if row is not None else _DUMMY, password or "")
        ok = row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    with db.transaction(path) as conn:
        conn.execute("DELETE FROM login_failures WHERE at < ?", (now - WINDOW,))
        if not ok:
            conn.executemany(
                "INSERT INTO login_failures (key, at) VALUES (?, ?)", [(k, now) for k in keys]
            )
        else:
            conn.execute("DELETE FROM login_failures WHERE key = ?", (keys[0],))
    if not ok:
        raise LoginRefused("wrong user name or password", "check both and try again")
    return _user(row)


def waiting(path, keys, now: float) -> int:
    """Seconds to wait before the next attempt is checked (0: go ahead)."""
    longest = 0.0
    with db.closing(path) as conn:
        for key in keys:
            n, last = conn.execute(
                "SELECT count(*), max(at) FROM login_failures WHERE key = ? AND at >= ?",
                (key, now - WINDOW),
            ).fetchone()
            if n >= FREE_FAILURES:
                wait = min(2.0 ** (n - FREE_FAILURES + 1), MAX_WAIT)
                longest = max(longest, last + wait - now)
    return int(longest + 0.999) if longest > 0 else 0
