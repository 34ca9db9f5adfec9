"""A kernel manager whose kernels listen on Unix sockets instead of TCP ports.

With TCP, a kernel's ports are picked as free, then bound a moment later; kernels
started at the same time by parallel runs can pick the same port. Each kernel here
gets sockets under its own unique path, so they cannot clash.
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import default


class IPCKernelManager(AsyncKernelManager):
    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        # jupyter_client's own default for ipc is the same "kernel-ipc" prefix for every
        # kernel whose connection file is not chosen yet: make it unique.
        folder = Path(tempfile.gettempdir()) / "qifang-kernels"
        folder.mkdir(exist_ok=True)
        return str(folder / f"k-{uuid.uuid4().hex[:16]}")

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
