"""Accounts: argon2 hashes, roles, slowed repeated failures."""

from __future__ import annotations

import pytest

from analysis.desk import users
from analysis.desk.config import open_desk
from analysis.errors import QifangError


@pytest.fixture
def db(tmp_path):
    return open_desk(tmp_path / "desk").db


def test_passwords_are_stored_as_argon2_hashes(db):
    users.add(db, "王芳", "staff", "correct horse battery")
    from analysis.desk import db as store

    with store.closing(db) as conn:
        digest = conn.execute("SELECT hash FROM users").fetchone()[0]
    assert digest.startswith("$argon2id$") and "correct horse" not in digest
    assert users.login(db, "王芳", "correct horse battery", "10.0.0.1").role == "staff"


def test_wrong_password_and_unknown_name_give_the_same_refusal(db):
    users.add(db, "clerk", "staff", "correct horse battery")
    with pytest.raises(users.LoginRefused, match="wrong user name or password") as a:
        users.login(db, "clerk", "wrong", "10.0.0.1")
    with pytest.raises(users.LoginRefused, match="wrong user name or password") as b:
        users.login(db, "nobody", "wrong", "10.0.0.2")
    assert a.value.wait == b.value.wait == 0


def test_after_five_failures_each_attempt_waits_twice_as_long(db):
    users.add(db, "clerk", "staff", "correct horse battery")
    now = 1_000_000.0
    for i in range(users.FREE_FAILURES):
        with pytest.raises(users.LoginRefused):
            users.login(db, "clerk", "wrong", "10.0.0.1", now=now + i)
    last = now + users.FREE_FAILURES - 1
    with pytest.raises(users.LoginRefused) as info:  # even the right password
        users.login(db, "clerk", "correct horse battery", "10.0.0.9", now=last + 1)
    assert info.value.wait == 1  # 2 s after the last failure
    assert users.login(db, "clerk", "correct horse battery", "10.0.0.9", now=last + 2.5)
    # the failures from 10.0.0.1 still slow that address, for any account
    users.add(db, "other", "staff", "another good password")
    with pytest.raises(users.LoginRefused):
        users.login(db, "other", "nope", "10.0.0.1", now=last + 3)
    with pytest.raises(users.LoginRefused) as info:
        users.login(db, "other", "another good password", "10.0.0.1", now=last + 3.5)
    assert info.value.wait >= 1
    # and it all expires with the window
    assert users.login(
        db, "other", "another good password", "10.0.0.1", now=last + users.WINDOW + 10
    )


def test_names_roles_and_passwords_are_checked(db):
    with pytest.raises(QifangError, match="shorter than"):
        users.add(db, "a", "staff", "short")
    with pytest.raises(QifangError, match="role"):
        users.add(db, "a", "root", "long enough password")
    with pytest.raises(QifangError, match="control characters"):
        users.add(db, "a\x00b", "staff", "long enough password")
    users.add(db, "a", "staff", "long enough password")
    with pytest.raises(QifangError, match="exists already"):
        users.add(db, "a", "admin", "long enough password")


def test_a_reset_ends_the_accounts_sessions(db):
    before = users.add(db, "a", "staff", "long enough password")
    after = users.add(db, "a", "admin", "another long password", replace=True)
    assert after.epoch == before.epoch + 1 and after.admin
