"""A finished job's files: the preview, downloads as attachments, a zip of the run, and
a batch's index page with its briefs.

A file is found by looking the requested name up among the files the job actually
made (a dictionary built by listing its folder), never by joining what a URL says onto a
path.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from analysis.desk import jobs, web
from analysis.desk.config import Desk

MEDIA = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
}
MAIN = {"pdf": "brief.pdf", "html": "brief.html", "tables": "tables.xlsx"}


def routes() -> list[Route]:
    return [
        Route("/jobs/{id}/preview", preview),
        Route("/jobs/{id}/download/{key}", download),
        Route("/jobs/{id}/batch/index.html", batch_index),
        Route("/jobs/{id}/batch/{brief}/{file}", batch_file),
    ]


def _folder(desk: Desk, job: dict) -> Path | None:
    if job["status"] != "done" or not job["folder"]:
        return None
    folder = (desk.data / job["folder"]).resolve()
    if not folder.is_relative_to(desk.runs.resolve()) or not folder.is_dir():
        return None
    return folder


def listing(desk: Desk, job: dict) -> dict | None:
    """What a finished job offers: for a run, its main files and drafts; for a batch,
    its briefs."""
    folder = _folder(desk, job)
    if folder is None:
        return None
    if job["kind"] == "batch":
        briefs = sorted(p.parent.name for p in folder.glob("*/manifest.json"))
        return {"briefs": briefs, "index": (folder / "index.html").is_file()}
    drafts = [_draft(p) for p in sorted((folder / "drafts").glob("*.docx"))]
    main = {k: name for k, name in MAIN.items() if (folder / name).is_file()}
    return {"main": main, "drafts": drafts, "name": folder.name}


def _draft(path: Path) -> dict:
    """A draft's download, named for staff: 政协提案（中文） rather than proposal.zh.docx."""
    from analysis.writing.drafts import GENRES

    genre, _, lang = path.stem.partition(".")
    text = GENRES.get(genre)
    langs = {"zh": ("中文", "Chinese"), "en": ("英文", "English")}.get(lang, (lang, lang))
    return {
        "key": f"draft-{path.stem}",
        "zh": f"{text.zh if text else genre}（{langs[0]}）",
        "en": f"{text.en if text else genre} ({langs[1]})",
        "file": path.name,
    }


def _files(desk: Desk, job: dict) -> dict[str, Path]:
    """Download key → file, for the keys a job offers."""
    folder = _folder(desk, job)
    if folder is None:
        raise HTTPException(404, "not_found")
    out: dict[str, Path] = {}
    if job["kind"] == "run":
        out = {k: folder / name for k, name in MAIN.items() if (folder / name).is_file()}
        for draft in (folder / "drafts").glob("*.docx"):
            out[f"draft-{draft.stem}"] = draft
    out["zip"] = folder  # made on request
    return out


def _job(request: Request) -> tuple[Desk, dict]:
    desk = web.desk_of(request)
    job = jobs.get(desk.db, web.int_param(request, "id"))
    if job is None:
        raise HTTPException(404, "not_found")
    return desk, job


@web.page()
async def download(request: Request) -> Response:
    desk, job = _job(request)
    files = _files(desk, job)
    key = request.path_params["key"]
    if key not in files:
        raise HTTPException(404, "not_found")
    path = files[key]
    if key == "zip":
        path = _zip(desk, job, path)
        name = f"qifang-job-{job['id']}-{path.stem}.zip"
    else:
        name = f"job-{job['id']}-{path.name}"
    return web.attachment(path, name, MEDIA.get(path.suffix, "application/octet-stream"))


def _zip(desk: Desk, job: dict, folder: Path) -> Path:
    """The whole run (or batch) as one zip, made once beside the job's folder."""
    target = desk.job_folder(job["id"]) / f"{folder.name}.zip"
    if target.is_file():
        return target
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                z.write(path, f"{folder.name}/{path.relative_to(folder)}")
    tmp.replace(target)
    return target


def _inline(path: Path) -> Response:
    """A brief shown inside the desk: no script may run, nothing may be fetched."""
    response = FileResponse(path, media_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = web.BRIEF_CSP
    return response


@web.page()
async def preview(request: Request) -> Response:
    desk, job = _job(request)
    files = _files(desk, job)
    if "html" not in files:
        raise HTTPException(404, "not_found")
    return _inline(files["html"])


@web.page()
async def batch_index(request: Request) -> Response:
    desk, job = _job(request)
    folder = _folder(desk, job)
    if folder is None or job["kind"] != "batch" or not (folder / "index.html").is_file():
        raise HTTPException(404, "not_found")
    return _inline(folder / "index.html")


@web.page()
async def batch_file(request: Request) -> Response:
    """A brief of a batch, as the index page links it (``<brief>/brief.html``)."""
    desk, job = _job(request)
    folder = _folder(desk, job)
    if folder is None or job["kind"] != "batch":
        raise HTTPException(404, "not_found")
    briefs = {p.parent.name: p.parent for p in folder.glob("*/manifest.json")}
    brief = briefs.get(request.path_params["brief"])
    name = request.path_params["file"]
    if brief is None or name not in ("brief.html", "brief.pdf"):
        raise HTTPException(404, "not_found")
    if name == "brief.html" and request.query_params.get("download") != "1":
        return _inline(brief / name)
    return web.attachment(
        brief / name, f"job-{job['id']}-{brief.name}-{name}", MEDIA[Path(name).suffix]
    )
