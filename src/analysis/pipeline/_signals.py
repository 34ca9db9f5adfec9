"""Ctrl-C and SIGTERM during a run: stop the kernels at once, then stop the run at a
point where stopping is safe.

Python raises KeyboardInterrupt wherever the main thread happens to be. Inside an
import that can leave an import lock held for ever (between ``_imp.acquire_lock()``
and its ``try``), and the threads that start kernels and import the exporters then wait
on it for ever: a run interrupted in its first seconds hung instead of stopping. Here
the first signal kills the run's kernels at once (no cell runs on); the interrupt is
raised at once too, unless the main thread is inside the import machinery, where it is
raised again 50 ms later, until it lands outside.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator

_SIGNALS = tuple(
    s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s
)


@contextlib.contextmanager
def stopping(on_signal: Callable[[], None]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM (where a Python handler is set for them, as
    Python does for SIGINT and ``qifang`` for SIGTERM) first call ``on_signal`` (quick,
    and importing nothing), then raise as before, never inside an import. Does nothing
    outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    active = [True]
    received: list[int] = []

    def handler(signum, frame):
        received.append(signum)
        on_signal()
        if _importing(frame):
            timer = threading.Timer(0.05, _again, (signum, active))
            timer.daemon = True
            timer.start()
            return
        before = previous[signum]
        if callable(before):
            before(signum, frame)  # KeyboardInterrupt, or the caller's own
        raise KeyboardInterrupt

    for s in _SIGNALS:
        if callable(previous[s]):  # not where the caller ignores it (SIG_IGN) or dies (SIG_DFL)
            signal.signal(s, handler)
    try:
        yield
    except BaseException as exc:
        # After a signal, whatever the killed kernels make fail on the way out (a kernel
        # that died while starting) is the interrupt, not an error of its own.
        if received and not isinstance(exc, KeyboardInterrupt | SystemExit):
            before = previous[received[0]]
            if callable(before):
                before(received[0], None)  # KeyboardInterrupt, or the caller's own
            raise KeyboardInterrupt from None
        raise
    finally:
        active[0] = False
        for s, before in previous.items():
            signal.signal(s, before)


def _again(signum: int, active: list) -> None:
    if active[0]:
        os.kill(os.getpid(), signum)


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False
