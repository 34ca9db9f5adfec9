"""Where a run's kernels come from: fresh for each run, or kept warm across a batch.

:class:`Fresh` (what ``qifang run`` uses) gives each notebook a kernel of its own,
started ahead of it and stopped after it, so that the brief and drafts notebooks run
side by side on the machine's cores. :class:`Warm` (what a batch worker uses) keeps one
kernel for all the notebooks of its briefs: a worker runs one brief at a time on a core
of its own (more cores take more workers), so the notebooks of a brief take turns, and
each hands the kernel to the next after clearing it (``RESET``): every name the
notebook defined is deleted (IPython's ``reset``), figures are closed, pandas' display
options are reset, and the modules stay imported. A fresh kernel spends about a second
starting and one to two seconds importing pandas, statsmodels, matplotlib and the
package, and jieba loads its dictionary on first use: a warm kernel has done all of
that, once per worker. A kernel whose notebook raised an error in a cell answered as
usual and is cleared and reused like the others; one that died, timed out or was
interrupted is stopped, never reused; and a kernel its notebook has given back is not
stopped when another notebook of the same brief fails.

Kernels are plain subprocesses of the process that starts them (a Dask worker's
processes are daemonic and cannot have multiprocessing children; subprocesses are
fine). A kernel watches its parent (``JPY_PARENT_PID``) and exits when it dies, so a
killed worker leaves no kernel behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ._kernel import running

# Run in a warm kernel between two notebooks: nothing of the last one stays visible.
# Then what is left (modules, the package's caches) is frozen out of the garbage
# collector's full passes: they would scan it, tens of megabytes of objects, several
# times per notebook (IPython's reset alone runs one). Garbage is collected before.
RESET = (
    "get_ipython().reset(new_session=True)\n"
    "import matplotlib.pyplot as __plt\n"
    "__plt.close('all')\n"
    "del __plt\n"
    "import pandas as __pd\n"
    "__pd.reset_option(r'^display\\.')\n"
    "del __pd\n"
    "import gc as __gc\n"
    "__gc.collect()\n"
    "__gc.freeze()\n"
    "del __gc\n"
)
RESET_TIMEOUT = 10  # seconds


class Fresh:
    """A kernel per notebook per run: started ahead of it, stopped after it; its
    sockets in the run's private folder. ``start(cwd, sockets)`` and ``stop(km)`` are
    the runner's (:mod:`analysis.pipeline.run`)."""

    one_kernel = False  # whether a run's notebooks take turns in one kernel

    def __init__(self, sockets: Path | None, start: Callable, stop: Callable):
        self.sockets = sockets
        self._start = start
        self._stop = stop

    def start(self, cwd: Path, notebook: str):
        km = self._start(cwd, self.sockets)
        km.qifang_cwd = str(cwd)
        km.qifang_taken = False  # set by the run whose notebook takes it
        return km

    def done(self, km, notebook: str, ok: bool) -> None:
        if km.has_kernel:
            self._stop(km)


class Warm(Fresh):
    """Kernels kept between the briefs of one batch in this process, one kernel for
    the notebooks of a brief in turn (``one_kernel``).

    Thread-safe. The kernels' sockets are in a private folder (0700) of the pool.
    ``close()`` stops every idle kernel and removes that folder; it also runs at exit,
    and after ``idle`` seconds without a brief (a batch whose client went away).
    """

    one_kernel = True

    def __init__(self, start: Callable, stop: Callable, idle: float = 600.0):
        super().__init__(Path(tempfile.mkdtemp(prefix=f"qifang-{os.getpid()}-")), start, stop)
        self._lock = threading.Lock()
        self._idle: dict[str, list] = {}  # working folder -> cleared kernels
        self._timeout = idle
        self._timer: threading.Timer | None = None
        self._busy: set = set()  # kernels a brief holds now
        self.started = 0  # kernels started, for tests and the benchmark
        self.reused = 0
        atexit.register(self.close)

    def start(self, cwd: Path, notebook: str):
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            idle = self._idle.get(str(cwd), [])
            while idle:
                km = idle.pop()
                if km.has_kernel and _alive(km):
                    self.reused += 1
                    km.qifang_taken = False
                    self._busy.add(km)
                    return km
                super().done(km, notebook, ok=False)
            self.started += 1
        self.sockets.mkdir(mode=0o700, exist_ok=True)  # closed while idle: made again
        km = super().start(cwd, notebook)
        with self._lock:
            self._busy.add(km)
        return km

    def done(self, km, notebook: str, ok: bool) -> None:
        with self._lock:
            self._busy.discard(km)
        _stop_extra_clients(km)
        if not ok or not km.has_kernel or not running(km) or not _reset(km):
            super().done(km, notebook, ok=False)
            return
        with self._lock:
            self._idle.setdefault(_cwd(km), []).append(km)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._timeout, self.close)
            self._timer.daemon = True
            self._timer.start()

    def close(self) -> None:
        with self._lock:
            kernels = [km for kms in self._idle.values() for km in kms]
            self._idle.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        for km in kernels:
            with contextlib.suppress(Exception):  # a kernel already gone
                Fresh.done(self, km, "", ok=False)
        shutil.rmtree(self.sockets, ignore_errors=True)

    def kill_busy(self) -> int:
        """Kill the kernels a brief holds now (its task was cancelled): the brief then
        ends at once. Returns how many."""
        from analysis.pipeline._kernel import kill_now

        with self._lock:
            busy = list(self._busy)
        for km in busy:
            kill_now(km)
        return len(busy)

    @property
    def idle(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._idle.values())


def _cwd(km) -> str:
    return str(getattr(km, "qifang_cwd", ""))


def _alive(km) -> bool:
    import asyncio

    try:
        return bool(asyncio.run(km.is_alive()))
    except Exception:
        return False


def _reset(km) -> bool:
    """Clear a kernel for the next brief; False when it does not answer in time."""
    kc = km.blocking_client()
    try:
        kc.start_channels(iopub=False, stdin=False, hb=False, control=False)
        msg_id = kc.execute(RESET, silent=True, store_history=False)
        while True:
            reply = kc.get_shell_msg(timeout=RESET_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]["status"] == "ok"
    except Exception:
        return False
    finally:
        kc.stop_channels()


def _stop_extra_clients(km) -> None:
    """nbclient leaves the channels of a kernel it was given open (its heartbeat is a
    thread): close them, or every brief would leave a few behind."""
    for kc in getattr(km, "qifang_clients", []):
        with contextlib.suppress(Exception):
            kc.stop_channels()
    if hasattr(km, "qifang_clients"):
        km.qifang_clients.clear()
