"""The shared part of every brief, computed once: loaded, coded, validated tables in Parquet.

Every brief of a batch (and every rerun for another region, industry or size)
starts from the same inputs: the visits export, the frame, the requests ledger and the
instrument. Loading them — reading the export, coding every cell against the
instrument, validating it as `qifang validate` does — is the same work each time, and
at a million visits it is the larger part of a brief (7 s of loading against 1 s of
reading Parquet). It is done once and kept as an entry of this cache:

``<cache root>/<key>/``: ``visits.parquet``, ``frame.parquet``, ``requests.parquet``
(when there is a ledger) and ``meta.json``.

The **key** is the SHA-256 of: the SHA-256 of every input file's bytes (visits, frame,
requests, instrument), the options of the shared step, and the versions of the code
that makes it (Qifang's version, a digest of the ingest and survey source, pandas and
pyarrow). Changing any byte of any of these gives another key, so a stale entry is
never read. No run parameter enters the key: region, wave, industry and size only pick
a domain of the shared tables, and confidence, min_cell and the rest apply per brief.
The one exception is an export without a wave column (问卷星 writes none): its visits
take the wave given (or the year of their dates), and the entry records which; a run
that names another wave for the same file does not use the entry.
The design (weights N_h/n_h from the frame) is rebuilt from the cached tables by
:func:`~analysis.survey.sampling.frame_design` (0.1 s at a million visits).

Entries are Arrow/Parquet and JSON only — nothing is unpickled, so an entry cannot run
code. An entry is written in a private temporary folder and renamed into place in one
step: a reader sees a whole entry or none, and two runs filling the same entry at once
both succeed, one of them keeping its copy. An entry that cannot be read is rebuilt.
Caching never stops a run: an unwritable cache root means the tables are computed in
memory, as without a cache.

The root is ``$QIFANG_CACHE``, else ``$XDG_CACHE_HOME/qifang``, else ``~/.cache/qifang``;
``QIFANG_CACHE=off`` switches the cache off. ``qifang cache clear`` empties it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from analysis.ingest.iorw import sha256

FORMAT = 3  # the layout of an entry; bump to orphan every older entry
INPUTS = ("visits", "frame", "requests", "instrument")
TABLES = ("visits", "frame", "requests")
# The options of the shared step: how the files are loaded and the design is built.
# They are constants of the code today; they are in the key so that making one a
# parameter cannot serve an entry built with another value.
OPTIONS = {"sheet": None, "psu": None, "lonely_psu": "adjust"}


@dataclass(frozen=True)
class Shared:
    """The shared tables of a parameter set's inputs.

    ``key`` names the cache entry; ``hit`` says whether the tables were read from it
    (False: computed now, and stored when the cache is on); ``folder`` is the entry, or
    None when the cache is off or could not be written.
    """

    key: str
    instrument: object  # analysis.ingest.instrument.Instrument
    visits: pd.DataFrame
    frame: pd.DataFrame
    requests: pd.DataFrame | None
    notices: tuple[str, ...]  # the validation's warnings for the user (Report.notices)
    # visits whose export has no wave column: the wave they took, and whether it was
    # the wave parameter's (True) or their dates' year (False)
    wave_filled: int | None
    wave_given: bool
    hit: bool
    folder: Path | None


def root() -> Path | None:
    """The cache folder, or None when ``QIFANG_CACHE=off``."""
    env = os.environ.get("QIFANG_CACHE", "").strip()
    if env.lower() in ("off", "0", "none", "false"):
        return None
    if env:
        return Path(env).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base).expanduser().absolute() / "qifang"


def key(p) -> str:
    """The cache key of a parameter set's inputs (see the module docstring).

    Parameters
    ----------
    p : checked parameters (:class:`~analysis.ingest.params.Params`); only the input
        paths are read.

    Examples
    --------
    >>> from analysis.ingest.params import check
    >>> len(key(check({})))
    64
    """
    parts = {
        "format": FORMAT,
        "inputs": {name: sha256(getattr(p, name)) if getattr(p, name) else "" for name in INPUTS},
        "options": OPTIONS,
        "code": code_version(),
    }
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=True).encode("ascii")
    return hashlib.sha256(blob).hexdigest()


def code_version() -> dict[str, str]:
    """What the shared tables depend on besides the inputs: Qifang's version, a digest
    of the source that loads and weights them, and the table libraries' versions."""
    here = Path(__file__).resolve().parents[1]  # src/analysis
    h = hashlib.sha256()
    for folder in ("ingest", "survey"):
        for f in sorted((here / folder).rglob("*")):
            if f.is_file() and f.suffix not in (".pyc",) and "__pycache__" not in f.parts:
                h.update(f.relative_to(here).as_posix().encode())
                h.update(f.read_bytes())
    return {
        "qifang": _version("qifang"),
        "source": h.hexdigest(),
        "pandas": pd.__version__,
        "pyarrow": _version("pyarrow"),
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def shared(p) -> Shared:
    """The loaded, coded and validated tables of ``p``'s inputs: from the cache when it
    holds them, else loaded now and stored.

    Parameters
    ----------
    p : checked parameters (:func:`analysis.ingest.params.check`).

    Returns
    -------
    Shared

    Raises
    ------
    ValidationError, InputFileError
        The inputs do not load (only when they are not cached: a cached entry was
        loaded without errors).
    """
    from analysis.ingest.instrument import load_instrument

    inst = load_instrument(p.instrument)
    k = key(p)
    base = root()
    folder = base / k if base is not None else None
    damaged = False
    if folder is not None and folder.is_dir():
        tables = _read(folder)
        if tables is not None and _same_wave(*tables[-2:], p.wave):
            return Shared(k, inst, *tables, hit=True, folder=folder)
        if tables is not None:  # the same export read as another wave: not this entry's
            return Shared(k, inst, *_load(p, inst), hit=False, folder=None)
        damaged = True
    started = time.perf_counter()
    tables = _load(p, inst)
    seconds = time.perf_counter() - started
    stored = _store(base, k, tables, p, seconds, damaged) if base is not None else None
    return Shared(k, inst, *tables, hit=False, folder=stored)


def _same_wave(filled: int | None, given: bool, wave) -> bool:
    """Whether an entry's visits took the wave this run would give them."""
    if filled is None:
        return True  # the export has its wave column
    return int(wave) == filled if wave is not None else not given


def _load(p, inst) -> tuple:
    from analysis.ingest.validate import check_inputs

    # the check `qifang validate` makes, cross-file checks included
    report = check_inputs(p.visits, p.requests or None, p.frame, inst, wave=p.wave)
    report.raise_errors()
    requests = report.form("requests").data if p.requests else None
    loaded = report.form("visits")
    visits, frame = loaded.data, report.form("frame").data
    wave = inst.visits.by_role("wave")
    filled = None
    if wave is not None and wave.name not in loaded.provenance.columns.values() and len(visits):
        filled = int(visits[wave.name].iloc[0])  # the export has no wave column
    return visits, frame, requests, tuple(report.notices()), filled, p.wave is not None


def _read(folder: Path):
    """The tables of a whole entry, or None when it cannot be read (then it is rebuilt)."""
    import pyarrow.parquet as pq

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("key") != folder.name or meta.get("format") != FORMAT:
            return None
        out = []
        for name in TABLES:
            path = folder / f"{name}.parquet"
            if name not in meta["tables"]:
                out.append(None)
                continue
            out.append(pq.read_table(path).to_pandas())
        out.append(tuple(str(n) for n in meta["notices"]))
        out.append(None if meta["wave_filled"] is None else int(meta["wave_filled"]))
        out.append(bool(meta["wave_given"]))
        with contextlib.suppress(OSError):
            os.utime(folder / "meta.json")  # last used, for `qifang cache list`
        return tuple(out)
    except Exception:  # a damaged or half-removed entry is a miss, never a failed run
        return None


def _store(base: Path, k: str, tables, p, seconds: float, damaged: bool) -> Path | None:
    """Write an entry in a private folder, then rename it into place in one step;
    ``damaged``: the entry in place could not be read, replace it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    final = base / k
    tmp = base / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        base.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        sizes = {}
        *frames, notices, filled, given = tables
        for name, df in zip(TABLES, frames, strict=True):
            if df is None:
                continue
            path = tmp / f"{name}.parquet"
            pq.write_table(pa.Table.from_pandas(df, preserve_index=True), path)
            sizes[name] = {"rows": len(df), "bytes": path.stat().st_size}
        meta = {
            "key": k,
            "format": FORMAT,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds_to_build": round(seconds, 3),
            "inputs": {
                name: {"path": getattr(p, name), "sha256": sha256(getattr(p, name))}
                for name in INPUTS
                if getattr(p, name)
            },
            "options": OPTIONS,
            "code": code_version(),
            "tables": sizes,
            "notices": list(notices),
            "wave_filled": filled,
            "wave_given": given,
        }
        # meta.json last: an entry is whole when it has one (and is in place only then)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        return _publish(tmp, final, damaged)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None  # an unwritable cache never stops a run


def _publish(tmp: Path, final: Path, replace: bool) -> Path:
    """Rename a finished entry into place. When another run put the same entry in
    place first, keep that one (the same inputs give the same tables)."""
    if replace and final.is_dir():
        _discard(final)
    try:
        tmp.rename(final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _whole(folder: Path) -> bool:
    """An entry in place with its meta.json and every table it lists (not their bytes)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return meta.get("key") == folder.name and all(
            (folder / f"{name}.parquet").is_file() for name in meta["tables"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _discard(folder: Path) -> None:
    trash = folder.with_name(f".trash-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    try:
        folder.rename(trash)
    except OSError:
        return  # another run moved it first
    shutil.rmtree(trash, ignore_errors=True)


@dataclass(frozen=True)
class Entry:
    """One cache entry, as ``qifang cache list`` shows it."""

    key: str
    folder: Path
    bytes: int
    created: str
    used: float  # last read, seconds since the epoch
    inputs: dict


def entries(base: Path | None = None) -> list[Entry]:
    """The whole entries in the cache, most recently used first."""
    base = base if base is not None else root()
    if base is None or not base.is_dir():
        return []
    out = []
    for folder in base.iterdir():
        meta_path = folder / "meta.json"
        if folder.name.startswith(".") or not meta_path.is_file():
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        out.append(
            Entry(
                folder.name,
                folder,
                size,
                str(meta.get("created", "")),
                meta_path.stat().st_mtime,
                meta.get("inputs", {}),
            )
        )
    return sorted(out, key=lambda e: e.used, reverse=True)


def clear(base: Path | None = None) -> tuple[int, int]:
    """Remove every entry (and leftovers of interrupted writes). Returns (entries, bytes).

    A run reading an entry while it is removed finds it gone and loads its inputs again.
    """
    base = base if base is not None else root()
    if base is None or not base.is_dir():
        return 0, 0
    count = size = 0
    for folder in list(base.iterdir()):
        if not folder.is_dir():
            continue
        whole = (folder / "meta.json").is_file() and not folder.name.startswith(".")
        bytes_ = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        _discard(folder)
        if whole:
            count += 1
            size += bytes_
    return count, size


def entry_files(folder: Path) -> dict[str, bytes]:
    """An entry's files by name, to send to a machine that does not share this disk."""
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir()) if f.is_file()}


def install(k: str, files: dict[str, bytes], base: Path | None = None) -> Path | None:
    """Put an entry received from another machine into this machine's cache (unless it
    is there already), by the same write-then-rename as :func:`shared`."""
    base = base if base is not None else root()
    if base is None:
        return None
    final = base / k
    if _whole(final):
        return final
    tmp = base / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        tmp.mkdir(parents=True)
        for name, data in files.items():
            if name not in {f"{t}.parquet" for t in TABLES} | {"meta.json"}:
                raise OSError(f"not an entry file: {name!r}")
            (tmp / name).write_bytes(data)
        return _publish(tmp, final, replace=final.is_dir())
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
