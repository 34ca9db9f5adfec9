"""Kernels for a run: Unix sockets in the run's own private folder, and a fast kill.

With TCP, a kernel's ports are picked as free, then bound a moment later; kernels
started at the same time by parallel runs can pick the same port. Each kernel here
listens on Unix sockets, and its connection file and sockets live in a folder that only
its run uses (mode 0700, removed when the run ends; left by a killed run, it is removed
by the next run once its process is gone).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode, default

_FOLDER = re.compile(r"^qifang-(\d+)-[a-z0-9_]+$")


class IPCKernelManager(AsyncKernelManager):
    socket_dir = Unicode("", help="the run's private folder for sockets").tag(config=True)

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("connection_file")
    def _default_connection_file(self) -> str:
        return str(self._folder() / f"kernel-{uuid.uuid4().hex[:16]}.json")

    @default("ip")
    def _default_ip(self) -> str:
        # jupyter_client's own default for ipc is the same "kernel-ipc" prefix for every
        # kernel whose connection file is not chosen yet: make it unique.
        return str(self._folder() / f"k-{uuid.uuid4().hex[:16]}")

    def _folder(self) -> Path:
        if self.socket_dir:
            return Path(self.socket_dir)
        folder = Path(tempfile.gettempdir()) / f"qifang-{os.getpid()}-shared"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def client(self, **kwargs):
        # Remembered so that a kernel kept for the next brief can close the channels
        # nbclient leaves open on a kernel it was given (analysis.pipeline.kernels).
        kc = super().client(**kwargs)
        self.__dict__.setdefault("qifang_clients", []).append(kc)
        return kc

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        # Cell errors reach us through the messaging protocol; what a kernel prints
        # on its own stderr while shutting down is noise in a command-line run.
        kw.setdefault("stderr", subprocess.DEVNULL)
        await super()._async_launch_kernel(kernel_cmd, **kw)


@contextlib.contextmanager
def socket_folder() -> Iterator[Path]:
    """A private folder (0700) for one run's kernel sockets and connection files,
    removed when the run ends; folders of runs whose process is gone are removed first."""
    clean_socket_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"qifang-{os.getpid()}-"))  # mode 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_socket_folders() -> list[Path]:
    """Remove ``qifang-<pid>-…`` folders in the temp folder whose process is gone."""
    import psutil  # a dependency of ipykernel

    removed = []
    for entry in Path(tempfile.gettempdir()).glob("qifang-*"):
        m = _FOLDER.match(entry.name)
        try:
            st = entry.lstat()
        except FileNotFoundError:
            continue
        if not m or not entry.is_dir() or entry.is_symlink():
            continue
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            continue  # another user's
        pid = int(m[1])
        try:
            alive = pid == os.getpid() or psutil.Process(pid).create_time() <= st.st_mtime + 1
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            alive = False
        except psutil.Error:
            alive = True
        # (no grace period on the folder's time: its dying kernels remove their files
        # while they end, which kept the folder of a killed run "recent" for the next run)
        if not alive:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def running(km) -> bool:
    """Whether the kernel's process is still running (a killed one needs no shutdown:
    its files go with the run's socket folder)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return process is not None and process.poll() is None


def kill_now(km) -> None:
    """Stop a kernel at once (SIGKILL to its process group), from any thread; the
    thread executing its notebook then sees a dead kernel and ends."""
    provisioner = getattr(km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(OSError):
        # kernels start in a session of their own: their group is theirs alone
        if hasattr(os, "killpg") and os.getpgid(process.pid) != os.getpgid(0):
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)
        else:
            process.kill()
