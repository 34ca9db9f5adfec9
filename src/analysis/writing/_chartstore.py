"""Each chart of a run drawn once, shared by the notebooks that show it.

The analysis notebook and the brief notebook show the same charts of the same
``findings.json``, side by side in time. Drawing a chart at 200 dpi is most of what the
brief notebook does, so a run gives its notebooks a store: the folder ``.charts`` in the
run's folder, made by the runner before the notebooks start and removed after they end
(it is never an output). The first notebook to ask for a chart claims it, draws it and
writes it; the other waits for the file and reads it. A chart's key is the SHA-256 of
the ``findings.json`` bytes, the chart's name and the language, so two notebooks share
a chart only when they would draw the same bytes.

Without that folder (a notebook opened in JupyterLab on its own) there is no store, and
every chart is drawn as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from analysis.writing.charts import Chart

FOLDER = ".charts"  # in a run's folder; the runner makes and removes it
WAIT = 120.0  # seconds to wait for a chart another notebook claimed, then draw it here


def key(findings_bytes: bytes, name: str, lang: str) -> str:
    """The key of one chart of one brief."""
    h = hashlib.sha256(hashlib.sha256(findings_bytes).digest())
    h.update(f"\0{name}\0{lang}".encode())
    return h.hexdigest()


class ChartStore:
    """The charts of one run, in ``folder``. Safe for processes on one machine: a claim
    is a file made with ``O_EXCL``, a chart is written to a private name and renamed."""

    def __init__(self, folder: str | Path, wait: float = WAIT):
        self.folder = Path(folder)
        self.wait = wait

    def get(self, key: str, draw: Callable[[], Chart | None]) -> Chart | None:
        """The chart of ``key``: read if another notebook drew it, else drawn by
        ``draw`` and written for the others."""
        got = self._read(key)
        if got is not None:
            return got[0]
        claim = self.folder / f"{key}.claim"
        try:
            fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return self._await(key, claim, draw)
        except OSError:  # the store went away (the run ended): draw here
            return draw()
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        try:
            chart = draw()
            self._write(key, chart)
            return chart
        finally:
            with contextlib.suppress(OSError):
                claim.unlink()

    def _await(self, key: str, claim: Path, draw):
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            got = self._read(key)
            if got is not None:
                return got[0]
            if not claim.exists() or not _alive(claim):
                break  # the other notebook gave up (or died): draw it here
            time.sleep(0.02)
        got = self._read(key)
        return got[0] if got is not None else draw()

    def _read(self, key: str) -> tuple[Chart | None] | None:
        """``(chart,)`` when the chart is in the store (``(None,)``: there is no such
        chart in this brief); None when it is not (yet)."""
        try:
            meta = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if meta["chart"] is None:
                return (None,)
            png = (self.folder / f"{key}.png").read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (Chart(png, meta["chart"]["alt"], meta["chart"]["caption"]),)

    def _write(self, key: str, chart: Chart | None) -> None:
        # The PNG first, the JSON last: a reader that finds the JSON finds the PNG.
        with contextlib.suppress(OSError):  # the store went away: nothing to share
            if chart is not None:
                _atomic(self.folder / f"{key}.png", chart.png)
            words = None if chart is None else {"alt": chart.alt, "caption": chart.caption}
            meta = {"chart": words}
            _atomic(self.folder / f"{key}.json", json.dumps(meta, ensure_ascii=False).encode())


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _alive(claim: Path) -> bool:
    """Whether the process that claimed a chart still runs (True when unknown)."""
    try:
        pid = int(claim.read_text() or "0")
    except (OSError, ValueError):
        return True  # being written, or just removed: look again
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
