"""Where a batch's briefs go, and its index page (see :mod:`analysis.pipeline.batch`).

The files of each brief come back from the workers to the machine that started the
batch. In a local folder (the default, ``briefs/<wave>-by-<by>/``) a brief is written
to a temporary folder and swapped in as ``qifang run`` does: a failed brief never
replaces the last good one. Given an fsspec URL instead (``s3://bucket/briefs``,
``file:///shared/briefs``), a brief is written there file by file, ``manifest.json``
last: object stores cannot rename a folder, so a brief whose ``manifest.json`` is
present is whole.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

from analysis.errors import ParameterError, clip
from analysis.ingest.params import Params
from analysis.pipeline import outdir


def _is_url(out: str) -> bool:
    return "://" in out


class Target:
    """The batch folder: local (each brief claimed, locked and swapped in as by
    ``qifang run``) or at an fsspec URL (manifest last). Checked when made, before
    anything runs; :meth:`open` names the batch folder."""

    def __init__(self, out_root):
        from analysis.pipeline.run import BRIEFS

        self.fs = None
        self.url = str(out_root) if out_root is not None and _is_url(str(out_root)) else None
        self.since = time.time()
        if self.url is not None:
            import fsspec

            try:
                self.fs, self.base = fsspec.core.url_to_fs(self.url)
            except (ImportError, ValueError) as exc:
                raise ParameterError(
                    f"--out {clip(self.url)}: {exc}",
                    "install the fsspec package for that storage (e.g. s3fs for s3://)",
                ) from None
        else:
            self.root = outdir.output_root(out_root, BRIEFS)

    def open(self, name: str) -> None:
        """Name the batch folder (checked; made when the first file is written)."""
        outdir.safe_name(name)
        if self.fs is not None:
            self.base = f"{self.base.rstrip('/')}/{name}"
            self.location: Path | str = f"{self.url.rstrip('/')}/{name}"
        else:
            self.folder = outdir.check_batch_folder(self.root / name)
            self.location = self.folder

    def put(self, name: str, files: dict[str, bytes]) -> str:
        """Put a made brief in place, replacing the last one; returns where it is."""
        outdir.safe_name(name)
        if self.fs is None:
            with outdir.claim(self.folder, name, self.since) as claim:
                _write(claim.work, files)
                return str(claim.publish())
        final = f"{self.base}/{name}"
        if self.fs.exists(final):
            self.fs.rm(final, recursive=True)
        later = {k: v for k, v in files.items() if k == "manifest.json"}
        for rel, data in [*((k, v) for k, v in files.items() if k not in later), *later.items()]:
            self._pipe(f"{final}/{rel}", data)
        failed = f"{self.base}/{name}.failed"
        if self.fs.exists(failed):
            self.fs.rm(failed, recursive=True)
        return f"{self.location}/{name}"

    def failed(self, name: str, files: dict[str, bytes]) -> str:
        """Keep a failed brief's notebooks beside the last good brief, for debugging;
        returns where."""
        outdir.safe_name(name)
        if self.fs is None:
            with outdir.claim(self.folder, name, self.since) as claim:
                _write(claim.work, files)
                return str(claim.keep_failed())
        for rel, data in files.items():
            self._pipe(f"{self.base}/{name}.failed/{rel}", data)
        return f"{self.location}/{name}.failed"

    def index(self, page: str) -> None:
        data = page.encode("utf-8")
        if self.fs is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / ".index.html.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.folder / "index.html")
        else:
            self._pipe(f"{self.base}/index.html", data)

    def _pipe(self, path: str, data: bytes) -> None:
        if ".." in path.split("/"):
            raise ValueError(f"not a file of a run: {path!r}")
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)  # object stores: no-op
        self.fs.pipe_file(path, data)


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = folder / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise ValueError(f"not a file of a run: {rel!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def restore_paths(files: dict[str, bytes], p: Params) -> dict[str, bytes]:
    """The manifest as if the brief had been made here: the inputs' paths on this
    machine, not in the worker's scratch folder (their SHA-256 are the same)."""
    if "manifest.json" not in files:
        return files
    manifest = json.loads(files["manifest.json"])
    for name, item in manifest.get("inputs", {}).items():
        item["path"] = getattr(p, name)
        manifest["parameters"][name] = getattr(p, name)
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    return {**files, "manifest.json": text.encode("utf-8")}


def index_row(label: str, folder: str, findings_json: bytes) -> str:
    from analysis.findings.model import Findings
    from analysis.writing import numfmt

    head = Findings.model_validate(json.loads(findings_json)).headline
    idx = head.index
    index = (
        f"{numfmt.score(idx.estimate, 'en')}（{numfmt.score(idx.ci_low, 'en')}–"
        f"{numfmt.score(idx.ci_high, 'en')}）"
        if idx.estimate is not None and not idx.suppressed
        else "—"
    )
    top = head.top_difficulty
    top_text = (
        f"{html.escape(top.label.zh)} {numfmt.pct(top.stat.estimate)}"
        if top is not None and top.stat.estimate is not None
        else "—"
    )
    return (
        f"<tr><td>{html.escape(label)}</td><td class='num'>{numfmt.count(head.n)}</td>"
        f"<td class='num'>{index}</td><td>{top_text}</td>"
        f"<td><a href='{html.escape(folder)}/brief.html'>HTML</a> · "
        f"<a href='{html.escape(folder)}/brief.pdf'>PDF</a></td></tr>"
    )


def failed_row(label: str, error: str) -> str:
    return (
        f"<tr><td>{html.escape(label)}</td><td colspan='4' class='down'>"
        f"未生成 failed: {html.escape(error)}</td></tr>"
    )


def index_page(dims: list[str], inst, base: Params, jobs, rows: dict[str, str]) -> str:
    """``index.html``: every brief of the batch with its headline figures, in the
    instrument's order; a brief that failed shows its error."""
    from analysis.writing.render import brief_css

    qs = [inst.question(d) for d in dims]
    by_zh = "、".join(q.short.zh for q in qs)
    by_en = " and ".join(q.short.en.lower() for q in qs)
    level = f"{base.confidence * 100:g}%"
    title = f"{base.wave}年分{by_zh}简报 · Briefs by {by_en}, {base.wave}"
    body = "".join(rows[j.label] for j in jobs if j.label in rows)
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'/>"
        f"<meta name='generator' content='{outdir.BATCH_MARK}'/>"
        f"<title>{html.escape(title)}</title><style>{brief_css()}</style></head><body>"
        f"<main class='brief'><h1>{html.escape(title)}</h1>"
        "<table><thead><tr><th>" + html.escape(by_zh) + "</th>"
        "<th class='num'>走访企业数</th><th class='num'>营商环境指数</th>"
        "<th>最突出困难</th><th>简报</th></tr></thead><tbody>" + body + "</tbody></table>"
        f"<p class='source'>指数为0–100分，括号内为{level}置信区间；走访企业数为本轮走访的企业数。"
        f"Index 0–100 with its {level} confidence interval; firms visited in this wave.</p>"
        "</main></body></html>"
    )
