"""Output folders: safe names, one writer per folder, the atomic swap and the clean-up.

Names and folders come from users (``--name``, ``--out``, the desk's forms), so they are
checked before anything runs: a run folder's name is one plain folder name, never a
path; the folder it would replace must be a Qifang run (it has Qifang's
``manifest.json``), never a user's own folder; ``--out`` is made absolute at once, so
nothing depends on the working directory.

A run holds a lock on ``<root>/.<name>.lock`` while it writes: a second run into the same
folder is refused, with a message naming the run that holds it (the lock is the
operating system's, so it is released when its process ends, even by SIGKILL).
Under the lock, leftovers of runs whose process is gone (``.<name>.tmp-<pid>-…``,
``.<name>.old-<pid>-…``) are removed.

Public: :func:`safe_name`, :func:`output_root`, :func:`is_run`, :func:`check_target`,
:func:`check_batch_folder`, :func:`claim` (a :class:`Claim`: ``work`` folder,
``publish()``, ``keep_failed()``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import stat
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import OutputFolderError, clip

MAX_NAME = 100  # characters in a run folder's name
_NAME = re.compile(r"[\w\-.+=@~]+")  # letters of any script, digits and a few marks
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{i}" for d in ("com", "lpt") for i in range(10)}
_VIRTUAL = ("/proc", "/sys", "/dev")
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)?-?[0-9a-z]*$")


def safe_name(name: object, what: str = "--name") -> str:
    """``name`` if it is one safe folder name; otherwise a typed error saying why.

    A safe name is 1 to 100 letters (any script), digits and ``- _ . + = @ ~``; it does
    not start with a dot or a dash, is not ``.`` or ``..`` and holds no ``/`` or ``\\``,
    so it can only ever name a folder directly inside the output folder.

    Raises
    ------
    OutputFolderError

    Examples
    --------
    >>> safe_name("2025-海东")
    '2025-海东'
    """
    if not isinstance(name, str) or not name:
        raise OutputFolderError(
            f"{what} is empty", "give a folder name, e.g. 2025-haidong (letters, digits, -)"
        )
    shown = clip(name)
    fix = "give one folder name of letters, digits and -, e.g. 2025-haidong"
    if "/" in name or "\\" in name or name in (".", ".."):
        raise OutputFolderError(f"{what} {shown!r} is a path, not a folder name", fix)
    if len(name) > MAX_NAME:
        raise OutputFolderError(
            f"{what} is {len(name):,} characters long (at most {MAX_NAME})", fix
        )
    if name[0] in ".-":
        raise OutputFolderError(f"{what} {shown!r} starts with {name[0]!r}", fix)
    if not _NAME.fullmatch(name):
        bad = sorted({c for c in name if not _NAME.fullmatch(c)})
        raise OutputFolderError(
            f"{what} {shown!r} holds characters a folder name should not: "
            + " ".join(repr(c) for c in bad[:10]),
            fix,
        )
    if name.split(".")[0].lower() in _RESERVED or name.endswith((".", ".failed")):
        raise OutputFolderError(f"{what} {shown!r} is reserved", fix)
    return name


def output_root(path: str | Path | None, default: Path) -> Path:
    """The folder run folders go into, absolute (resolved against the current working
    directory once, here), and checked: not a file, not a system folder.

    It need not exist yet; it is created when a run starts writing.

    Raises
    ------
    OutputFolderError
    """
    root = Path(default if path is None or str(path) == "" else path).expanduser()
    try:
        root = root.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise OutputFolderError(
            f"--out {clip(str(path))!r} cannot be resolved ({exc})", "give an existing folder"
        ) from None
    if any(root == Path(v) or Path(v) in root.parents for v in _VIRTUAL):
        raise OutputFolderError(
            f"--out {root} is a system folder", "give a folder of your own, e.g. --out briefs"
        )
    for parent in (root, *root.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputFolderError(
                    f"--out {root}: {parent} is a file, not a folder",
                    "give a folder (it is created when missing)",
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputFolderError(
                    f"--out {root}: no permission to write in {parent}",
                    "give a folder you can write to",
                )
            break
    return root


def is_run(folder: Path) -> bool:
    """Whether ``folder`` is a run folder Qifang wrote (it has Qifang's manifest)."""
    manifest = folder / "manifest.json"
    if folder.is_symlink() or not manifest.is_file() or manifest.stat().st_size > 50_000_000:
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "qifang" in data and "outputs" in data


def check_target(root: Path, name: str) -> Path:
    """``root/name`` if a run may write it: it does not exist, is an empty folder, or is
    a Qifang run folder. Called before anything runs, and again under the lock.

    Raises
    ------
    OutputFolderError
    """
    safe_name(name)
    final = root / name
    try:
        st = final.lstat()
    except FileNotFoundError:
        return final
    if stat.S_ISLNK(st.st_mode):
        raise OutputFolderError(
            f"{final} is a link", "give another --name: Qifang replaces only run folders it made"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise OutputFolderError(
            f"{final} is a file, not a run folder", "give another --name, or move the file away"
        )
    for _ in range(3):  # another run may be swapping it in at this moment: look again
        try:
            if is_run(final) or not any(final.iterdir()):
                return final
        except FileNotFoundError:
            return final
        time.sleep(0.05)
    raise OutputFolderError(
        f"{final} holds files that are not a Qifang run (no manifest.json): it is left as it is",
        "give another --name, or another --out",
    )


BATCH_MARK = "qifang batch"  # in the index page of a batch folder


def check_batch_folder(folder: Path) -> Path:
    """``folder`` if a batch may write into it: it does not exist, is empty, or is a
    batch folder (its ``index.html`` is Qifang's, or it holds only runs).

    Raises
    ------
    OutputFolderError
    """
    safe_name(folder.name)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputFolderError(
            f"{folder} is not a folder Qifang made", "give another --name, or another --out"
        )
    if not folder.exists():
        return folder
    index = folder / "index.html"
    if index.is_file() and BATCH_MARK in index.read_text(encoding="utf-8", errors="replace")[:2000]:
        return folder
    for entry in folder.iterdir():
        ours = entry.name.startswith(".") or (
            entry.is_dir() and (is_run(entry) or entry.name.endswith(".failed"))
        )
        if not ours:
            raise OutputFolderError(
                f"{folder} holds files that are not Qifang briefs (e.g. {entry.name}): it is "
                "left as it is",
                "give another --name, or another --out",
            )
    return folder


@dataclass
class Claim:
    """The right to write ``final``: a fresh hidden ``work`` folder beside it, and the
    lock that keeps other runs out until :meth:`release`."""

    root: Path
    name: str
    work: Path
    _lock: _Lock

    @property
    def final(self) -> Path:
        return self.root / self.name

    @property
    def failed(self) -> Path:
        return self.root / f"{self.name}.failed"

    def publish(self) -> Path:
        """Put ``work`` in place of ``final`` by renames only: the old run is replaced in
        one step, never left half-written; the last failure's notebooks go."""
        final = check_target(self.root, self.name)
        old = None
        with _signals_deferred():  # Ctrl-C between the two renames would hide the brief
            if final.exists():
                old = self.root / f".{self.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                final.rename(old)
            self.work.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(self.failed, ignore_errors=True)
        return final

    def keep_failed(self) -> Path:
        """Keep what a failed run wrote as ``<name>.failed`` (the last good run stays)."""
        shutil.rmtree(self.failed, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.work.rename(self.failed)
        return self.failed

    def release(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)  # nothing when published or kept
        self._lock.release()


@contextlib.contextmanager
def claim(root: Path, name: str, started: float | None = None) -> Iterator[Claim]:
    """Lock ``root/name`` for one run, check it may be replaced, clean leftovers of dead
    runs and make the run's hidden work folder.

    Raises
    ------
    OutputFolderError
        Another run is writing the same folder (it is named), or the folder is not a run.
    """
    root.mkdir(parents=True, exist_ok=True)
    safe_name(name)
    lock = _Lock(root / f".{name}.lock")
    other = lock.acquire()
    if other is not None:
        raise OutputFolderError(
            f"{root / name} is being written by another run ({other})",
            "wait until it has finished, or give another --name",
        )
    try:
        check_target(root, name)  # under the lock: nothing else changes it now
        clean_leftovers(root, started)
        work = root / f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        work.mkdir()
    except BaseException:
        lock.release()
        raise
    run = Claim(root, name, work, lock)
    try:
        yield run
    finally:
        run.release()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back for a moment (main thread, POSIX); they arrive after."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def clean_leftovers(root: Path, before: float | None = None) -> list[Path]:
    """Remove hidden ``.<name>.tmp-…`` and ``.<name>.old-…`` folders of runs that are
    over: their process is gone and no run holds their folder's lock. Only folders last
    changed before ``before`` (default: now) are considered. An ``.old-`` folder whose
    run folder is missing (its run was killed between the two renames of the swap) is
    put back instead.

    Returns the folders removed.
    """
    before = time.time() if before is None else before
    removed = []
    for entry in sorted(root.iterdir()) if root.is_dir() else ():
        m = _LEFTOVER.match(entry.name)
        if not m or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            if entry.stat().st_mtime >= before:
                continue
        except FileNotFoundError:
            continue
        pid = int(m["pid"]) if m["pid"] else None
        if pid is not None and _alive(pid, entry.stat().st_mtime):
            continue
        lock = _Lock(root / f".{m['name']}.lock")
        held_by_us = lock.path in _Lock.held
        if not held_by_us and lock.acquire() is not None:
            continue  # a run of that name is writing: its folders are not ours to touch
        try:
            final = root / m["name"]
            if ".old-" in entry.name and not final.exists() and not final.is_symlink():
                entry.rename(final)  # killed between the two renames: the brief comes back
            else:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        finally:
            if not held_by_us:
                lock.release()
    return removed


def _alive(pid: int, since: float) -> bool:
    """Whether the process ``pid`` that made a folder at ``since`` is still running (a
    process started after the folder was made is another one that reused the pid)."""
    if pid == os.getpid():
        return True
    import psutil  # a dependency of ipykernel

    try:
        return psutil.Process(pid).create_time() <= since + 1
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.Error:
        return True  # cannot tell: keep it


class _Lock:
    """An exclusive lock on a file, held by an open descriptor (``flock``): the system
    drops it when the process ends, however it ends. The file holds who holds it."""

    held: set[Path] = set()  # noqa: RUF012 - the locks this process holds

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> str | None:
        """Take the lock; None when taken, else who holds it, as text."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                owner = ""
                for _ in range(20):  # its holder writes who it is just after locking
                    owner = os.pread(fd, 4096, 0).decode("utf-8", "replace")
                    if owner:
                        break
                    time.sleep(0.05)
                os.close(fd)
                return _describe(owner)
            try:  # the file may have been removed by its last holder meanwhile
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": clip(" ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]), 200),
        }
        os.write(fd, json.dumps(owner, ensure_ascii=False).encode("utf-8"))
        self.fd = fd
        _Lock.held.add(self.path)
        return None

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # before unlocking: a waiter then sees a new file
        os.close(self.fd)
        self.fd = None
        _Lock.held.discard(self.path)


def _try_lock(fd: int) -> bool:
    if os.name == "posix":
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    import msvcrt  # pragma: no cover - Windows

    try:  # pragma: no cover
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError:  # pragma: no cover
        return False


def _describe(owner: str) -> str:
    try:
        o = json.loads(owner)
        return f"pid {o['pid']} on {o['host']}, started {o['started']}: {o['command']}"
    except (ValueError, KeyError, TypeError):
        return "its process did not say which"
