"""manifest.json of a run folder: what made it, so that it can be checked and made again.

Takes the run's parameters, its work folder and timings; gives the SHA-256 of every
input, notebook and output, the package versions and the platform.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from analysis.ingest.iorw import sha256
from analysis.ingest.params import PATHS, Params

PACKAGES = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "weasyprint",
    "jieba",
    "python-docx",
    "pyarrow",
    "openpyxl",
)


def _cache_entry(p) -> dict:
    """A brief's manifest names the entry of shared tables its notebooks loaded
    (:mod:`analysis.survey.cache`); other runs (results) have none."""
    if not isinstance(p, Params):
        return {}
    from analysis.survey import cache

    return {"cache": {"key": cache.key(p)}}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "qifang": _version("qifang")}
    out.update({name: _version(name) for name in PACKAGES})
    return out


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


INPUTS = PATHS  # the parameters that are files, recorded in the manifest


def write_manifest(
    work: Path,
    p,
    nb_dir: Path,
    timings: dict,
    run_notebooks: tuple[str, ...],
    inputs: tuple[str, ...] = INPUTS,
) -> None:
    """manifest.json: the parameters, the SHA-256 of every input, notebook and output,
    package versions and timings."""
    hashes = {}
    for name in inputs:
        path = getattr(p, name)
        if path:
            hashes[name] = {"path": path, "sha256": sha256(path)}
    inputs = hashes
    notebooks = {nb: {"sha256": sha256(nb_dir / nb)} for nb in run_notebooks}
    outputs = {
        str(f.relative_to(work)): {"bytes": f.stat().st_size, "sha256": sha256(f)}
        for f in sorted(work.rglob("*"))
        if f.is_file() and f.name != "manifest.json"
    }
    manifest = {
        "qifang": _version("qifang"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "parameters": p.to_dict(),
        "inputs": inputs,
        **_cache_entry(p),
        "notebooks": notebooks,
        "outputs": outputs,
        "packages": _versions(),
        "platform": f"{platform.system()} {platform.release()} ({sys.platform})",
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    (work / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
