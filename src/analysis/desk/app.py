"""The desk's web application (Starlette): login, datasets, the brief form, jobs,
results and user management. Pages are rendered on the server from the package's Jinja2
templates (autoescaped); the one script is htmx, shipped in the package, which polls a
running job's progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import urllib.parse

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from analysis.desk import datasets, i18n, jobs, results, users, web
from analysis.desk import form as brief_form
from analysis.desk.config import Desk
from analysis.errors import QifangError

SESSION_HOURS = 12


def create_app(desk: Desk, *, secure_cookies: bool = False) -> web.Limits:
    """The desk as an ASGI application.

    Parameters
    ----------
    desk : the data folder and settings (see :func:`analysis.desk.config.open_desk`).
    secure_cookies : send the session cookie over HTTPS only (behind a reverse proxy
        that terminates TLS).
    """
    routes = [
        Route("/", home),
        Route("/healthz", healthz),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/lang/{code}", set_lang),
        Route("/datasets", dataset_list, methods=["GET", "POST"]),
        Route("/datasets/{id}", dataset_page),
        Route("/datasets/{id}/problems.csv", problems_csv),
        Route("/datasets/{id}/delete", dataset_delete, methods=["POST"]),
        Route("/datasets/{id}/jobs", job_submit, methods=["POST"]),
        Route("/runs", history),
        Route("/jobs/{id}", job_page),
        Route("/jobs/{id}/status", job_status),
        Route("/jobs/{id}/cancel", job_cancel, methods=["POST"]),
        *results.routes(),
        Route("/admin/users", user_admin, methods=["GET", "POST"]),
        Route("/admin/users/{id}/delete", user_delete, methods=["POST"]),
        Mount("/static", StaticFiles(directory=web.STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=desk.secret(),
                session_cookie="qifang_session",
                max_age=SESSION_HOURS * 3600,
                same_site="lax",
                https_only=secure_cookies,
            )
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=_lifespan,
    )
    app.state.desk = desk
    app.state.templates = web.templates()
    app.state.validator = datasets.Validator()
    return web.Limits(app, max_body=3 * desk.max_upload + 2**20)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette):
    yield
    app.state.validator.close()


async def http_error(request: Request, exc: HTTPException) -> Response:
    words = i18n.words(web.lang_of(request))
    key = exc.detail if exc.detail in words else None
    if exc.status_code == 404:
        key = "not_found"
    message = words[key] if key else str(exc.detail)
    if key == "too_large":
        message = message.format(mb=web.desk_of(request).max_upload // 2**20)
    request.scope.setdefault("user", web.current_user(request))
    return web.render(request, "error.html", status=exc.status_code, message=message)


async def healthz(request: Request) -> Response:
    return Response("ok", media_type="text/plain")


async def home(request: Request) -> Response:
    return RedirectResponse("/datasets", status_code=303)


async def set_lang(request: Request) -> Response:
    code = request.path_params["code"]
    target = web.local_target(request.query_params.get("next"), "/datasets")
    response = RedirectResponse(target, status_code=303)
    if code in i18n.LANGS:
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# -- login --------------------------------------------------------------------------


async def login(request: Request) -> Response:
    target = web.local_target(request.query_params.get("next"), "/datasets")
    if request.method == "GET":
        return web.render(request, "login.html", next=target)
    form = await web.read_form(request)
    desk = web.desk_of(request)
    address = request.client.host if request.client else "unknown"
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    try:
        user = await asyncio.to_thread(users.login, desk.db, name, password, address)
    except users.LoginRefused as exc:
        await asyncio.sleep(0.5)  # every failure costs time; more of them cost more
        words = i18n.words(web.lang_of(request))
        if exc.wait:
            message = (
                f"登录失败次数过多，请{exc.wait}秒后再试。"
                if words["login"] == "登录"
                else f"Too many failed logins: wait {exc.wait} seconds and try again."
            )
        else:
            message = (
                "用户名或密码不对。" if words["login"] == "登录" else "Wrong user name or password."
            )
        return web.render(
            request,
            "login.html",
            status=401 if not exc.wait else 429,
            next=target,
            message=message,
            name=name,
        )
    request.session.clear()  # a new session: no fixation, a fresh CSRF token
    request.session.update({"uid": user.id, "epoch": user.epoch})
    return RedirectResponse(target, status_code=303)


@web.page()
async def logout(request: Request) -> Response:
    await web.read_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- datasets -----------------------------------------------------------------------


@web.page()
async def dataset_list(request: Request) -> Response:
    desk = web.desk_of(request)
    if request.method == "POST":
        return await _upload(request, desk)
    return web.render(
        request, "datasets.html", datasets=datasets.listing(desk), max_mb=desk.max_upload // 2**20
    )


async def _upload(request: Request, desk: Desk) -> Response:
    form = await web.read_form(request)
    try:
        name = datasets.check_label(str(form.get("name", "")))
        stored: dict[str, str] = {}
        paths: dict[str, str] = {}
        for slot in datasets.SLOTS:
            upload = form.get(slot)
            if upload is None or isinstance(upload, str) or not upload.filename:
                if slot in datasets.REQUIRED:
                    raise QifangError(f"no {slot} file was chosen", "choose the file and upload")
                continue
            sha, ext = await asyncio.to_thread(datasets.store, desk, upload.file, upload.filename)
            stored[slot] = sha
            paths[slot] = str(desk.upload_path(sha, ext))
    except QifangError as exc:
        status, message = 400, str(exc)
        if isinstance(exc, datasets.UploadTooLarge):
            words = i18n.words(web.lang_of(request))
            status = 413
            message = words["too_large"].format(mb=desk.max_upload // 2**20) + "\n" + message
        return web.render(
            request,
            "datasets.html",
            status=status,
            datasets=datasets.listing(desk),
            max_mb=desk.max_upload // 2**20,
            message=message,
            name=str(form.get("name", "")),
        )
    finally:
        await form.close()
    report = await asyncio.to_thread(request.app.state.validator.inspect, paths)
    user = request.scope["user"]
    dataset_id = datasets.create(desk, name, stored, report, user.id)
    return RedirectResponse(f"/datasets/{dataset_id}", status_code=303)


@web.page()
async def dataset_page(request: Request) -> Response:
    desk = web.desk_of(request)
    dataset = _dataset(request, desk)
    previous = None
    source = request.query_params.get("from")
    if source and source.isdigit():
        previous = jobs.get(desk.db, int(source))
        if previous is not None and previous["dataset_id"] != dataset["id"]:
            previous = None
    fields = brief_form.contract()
    values = brief_form.initial(fields, previous["params"] if previous else None)
    return web.render(
        request,
        "dataset.html",
        dataset=dataset,
        groups=_grouped(dataset),
        fields=fields,
        values=values,
        previous=previous,
        batch_by=(previous or {}).get("by") or "",
        **_runs(request, desk, dataset["id"]),
    )


def _runs(request: Request, desk: Desk, dataset_id: int | None, limit: int = 20) -> dict:
    runs = jobs.history(desk.db, limit=limit, dataset_id=dataset_id)
    lang = web.lang_of(request)
    return {"runs": runs, "labels": {j["id"]: _labels(desk, j, lang) for j in runs}}


def _dataset(request: Request, desk: Desk) -> dict:
    dataset = datasets.get(desk, web.int_param(request, "id"))
    if dataset is None:
        raise HTTPException(404, "not_found")
    return dataset


PER_COLUMN = 20


def _grouped(dataset: dict) -> list[dict]:
    """Problems by file, then by column (a file's own problems first); each column shows
    its first few, the rest are in the download."""
    out = []
    problems = dataset["report"]["problems"]
    for slot in ("", *datasets.SLOTS):
        # errors before warnings (a stable sort keeps the file's row order within each)
        mine = sorted(
            (p for p in problems if p["slot"] == slot), key=lambda p: p["severity"] != "error"
        )
        if not mine:
            continue
        columns: dict[str, list] = {}
        for p in mine:
            columns.setdefault(p["column"] or "", []).append(p)
        up = dataset["files"].get(slot)
        out.append(
            {
                "slot": slot,
                "original": up["original"] if up else "",
                "columns": [
                    {
                        "column": c,
                        "problems": ps[:PER_COLUMN],
                        "more": len(ps) - PER_COLUMN,
                        "errors": sum(p["severity"] == "error" for p in ps),
                    }
                    # the whole file first, then columns with errors, then the rest
                    for c, ps in sorted(
                        columns.items(),
                        key=lambda kv: (
                            kv[0] != "",
                            not any(p["severity"] == "error" for p in kv[1]),
                            kv[0],
                        ),
                    )
                ],
            }
        )
    return out


@web.page()
async def problems_csv(request: Request) -> Response:
    desk = web.desk_of(request)
    dataset = _dataset(request, desk)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["severity", "slot", "file", "row", "column", "value", "message", "fix"])
    for p in dataset["report"]["problems"]:
        up = dataset["files"].get(p["slot"])
        out.writerow(
            [
                _cell(x)
                for x in (
                    p["severity"],
                    p["slot"],
                    up["original"] if up else "",
                    p["row"],
                    p["column"],
                    p["value"],
                    p["message"],
                    p["fix"],
                )
            ]
        )
    quoted = urllib.parse.quote(f"problems-{dataset['id']}.csv")
    return Response(
        "\ufeff" + buf.getvalue(),  # a BOM: Excel then reads the Chinese as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"},
    )


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@web.page(admin=True)
async def dataset_delete(request: Request) -> Response:
    await web.read_form(request)
    desk = web.desk_of(request)
    dataset = _dataset(request, desk)
    await asyncio.to_thread(datasets.delete, desk, dataset["id"])
    return RedirectResponse("/datasets", status_code=303)


# -- jobs ---------------------------------------------------------------------------


@web.page()
async def job_submit(request: Request) -> Response:
    desk = web.desk_of(request)
    dataset = _dataset(request, desk)
    form = await web.read_form(request)
    names = {f"{up['sha256']}.{up['ext']}": up["original"] for up in dataset["files"].values()}
    fields = brief_form.contract()
    try:
        if dataset["errors"]:
            raise QifangError(
                "this dataset has errors and cannot be run", "fix the files and upload them again"
            )
        raw = brief_form.parse(dict(form), fields, dataset["choices"])
        by = str(form.get("batch_by", "") or "")
        if by and by not in datasets.CHOICE_QUESTIONS:
            raise QifangError(f"batch by {by[:20]!r} is not offered", "choose from the list")
        if by:
            raw.pop(by, None)
        extras: dict[str, str] = {}
        for f in fields:
            upload = form.get(f.name) if f.widget == "file" else None
            if upload is not None and not isinstance(upload, str) and upload.filename:
                sha, _ = await asyncio.to_thread(
                    datasets.store, desk, upload.file, upload.filename, datasets.RULE_EXTENSIONS
                )
                extras[f.name] = sha
                names[f"{sha}.yaml"] = upload.filename
            elif f.widget == "file" and form.get(f"keep_{f.name}"):  # a rerun keeps its file
                sha = str(form.get(f"keep_{f.name}"))
                desk.upload_path(sha, "yaml")  # a hash, or refused
                extras[f.name] = sha
        check = {
            **raw,
            **datasets.paths(desk, dataset),
            **{n: str(desk.upload_path(s, "yaml")) for n, s in extras.items()},
        }
        await asyncio.to_thread(_check_job, check, extras)
    except (QifangError, ValueError) as exc:
        message = str(exc) if isinstance(exc, QifangError) else "invalid upload reference"
        message = message.replace(str(desk.uploads) + "/", "")
        for stored, original in names.items():  # the files as the user named them
            message = message.replace(stored, original)
        return web.render(
            request,
            "dataset.html",
            status=400,
            dataset=dataset,
            groups=_grouped(dataset),
            fields=fields,
            values={**brief_form.initial(fields, None), **_text(form)},
            previous=None,
            batch_by="",
            message=message,
            **_runs(request, desk, dataset["id"]),
        )
    finally:
        await form.close()
    job_id = jobs.submit(
        desk.db,
        kind="batch" if by else "run",
        by=by or None,
        dataset_id=dataset["id"],
        params=raw,
        extras=extras,
        user_id=request.scope["user"].id,
    )
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


def _text(form) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


def _check_job(raw: dict, extras: dict) -> None:
    """Names, types and ranges now; rules, coding and office profile files now too (they
    are the user's own text, checked before they are queued); the data itself in the job."""
    from analysis.desk import engine

    engine.check_params(raw)
    if extras:
        from analysis.ingest.instrument import load_instrument
        from analysis.measures.text import load_coding
        from analysis.writing.suggest import load_rules

        inst = load_instrument()
        if "rules" in extras:
            load_rules(raw["rules"], inst)
        if "coding" in extras:
            load_coding(raw["coding"], instrument=inst)
        if "office" in extras:
            from analysis.ingest.office import department_codes, load_office

            load_office(raw["office"], department_codes(inst))


def _job(request: Request, desk: Desk) -> dict:
    job = jobs.get(desk.db, web.int_param(request, "id"))
    if job is None:
        raise HTTPException(404, "not_found")
    return job


@web.page()
async def job_page(request: Request) -> Response:
    desk = web.desk_of(request)
    job = _job(request, desk)
    return web.render(request, "job.html", job=job, **_job_context(desk, job, web.lang_of(request)))


@web.page()
async def job_status(request: Request) -> Response:
    desk = web.desk_of(request)
    job = _job(request, desk)
    response = web.render(
        request, "_status.html", job=job, **_job_context(desk, job, web.lang_of(request))
    )
    if job["status"] in jobs.FINISHED:
        response.headers["HX-Refresh"] = "true"  # the results, as the whole page shows them
    return response


def _job_context(desk: Desk, job: dict, lang: str) -> dict:
    return {
        "position": jobs.position(desk.db, job["id"]),
        "files": results.listing(desk, job) if job["status"] == "done" else None,
        "labels": _labels(desk, job, lang),
    }


def _labels(desk: Desk, job: dict, lang: str = "zh") -> list[tuple[str, str]]:
    """The parameters as the form names them, values as the dataset names them
    (市州：海东市 rather than region = haidong)."""
    choices = datasets.choices(desk, job["dataset_id"])
    fields = {f.name: f for f in brief_form.contract()}
    out = []
    order = {name: i for i, name in enumerate(fields)}
    for name, value in sorted(job["params"].items(), key=lambda kv: order.get(kv[0], 99)):
        for v, zh, en in choices.get(name, []) if name != "wave" else []:
            if v == value:
                value = zh if lang == "zh" else en
        if name == "lang":
            value = dict((c, zh if lang == "zh" else en) for c, zh, en in brief_form.LANGS).get(
                value, value
            )
        label = fields[name].label(lang) if name in fields else name
        out.append((label, str(value)))
    return out


@web.page()
async def job_cancel(request: Request) -> Response:
    await web.read_form(request)
    desk = web.desk_of(request)
    job = _job(request, desk)
    jobs.cancel(desk.db, job["id"])
    return RedirectResponse(f"/jobs/{job['id']}", status_code=303)


@web.page()
async def history(request: Request) -> Response:
    desk = web.desk_of(request)
    return web.render(
        request,
        "runs.html",
        **_runs(request, desk, None, limit=500),
    )


# -- users --------------------------------------------------------------------------


@web.page(admin=True)
async def user_admin(request: Request) -> Response:
    desk = web.desk_of(request)
    message = None
    status = 200
    if request.method == "POST":
        form = await web.read_form(request)
        try:
            await asyncio.to_thread(
                users.add,
                desk.db,
                str(form.get("name", "")),
                str(form.get("role", "")),
                str(form.get("password", "")),
                replace=True,
            )
            return RedirectResponse("/admin/users", status_code=303)
        except QifangError as exc:
            message, status = str(exc), 400
    return web.render(
        request,
        "users.html",
        status=status,
        users=users.all_users(desk.db),
        message=message,
        min_password=users.MIN_PASSWORD,
    )


@web.page(admin=True)
async def user_delete(request: Request) -> Response:
    await web.read_form(request)
    desk = web.desk_of(request)
    target = web.int_param(request, "id")
    if target == request.scope["user"].id:
        raise HTTPException(400, "you cannot delete your own account")
    users.delete(desk.db, target)
    return RedirectResponse("/admin/users", status_code=303)
