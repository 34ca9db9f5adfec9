"""What every page of the desk shares: templates, the language, the logged-in user,
CSRF tokens, forms read within limits, responses and security headers."""

from __future__ import annotations

import hmac
import secrets
import urllib.parse
from functools import wraps
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from analysis.desk import i18n, users
from analysis.desk.config import Desk

STATIC = Path(__file__).parent / "static"

# The app's own pages: scripts and styles only from the desk itself, no inline code,
# frames only from the desk (the brief's preview).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
# A brief or an index page shown in the desk: no scripts at all, nothing fetched.
BRIEF_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)


class TooLarge(Exception):
    pass


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("analysis.desk", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = seconds
    env.filters["when"] = when
    return env


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def when(value: float | None) -> str:
    import time

    return "—" if value is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(value))


def lang_of(request: Request) -> str:
    lang = request.cookies.get("lang", "zh")
    return lang if lang in i18n.LANGS else "zh"


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    lang = lang_of(request)
    env: Environment = request.app.state.templates
    html = env.get_template(template).render(
        request=request,
        lang=lang,
        t=i18n.words(lang),
        user=request.scope.get("user"),
        csrf=csrf_token(request),
        here=_here(request),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def _here(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def read_form(request: Request) -> FormData:
    """The request's form, within the upload limit, with its CSRF token checked."""
    desk = desk_of(request)
    try:
        form = await request.form(max_files=10, max_fields=100, max_part_size=64 * 1024)
    except TooLarge:
        raise HTTPException(413, "too_large") from None
    except MultiPartException as exc:
        raise HTTPException(400, str(exc)) from None
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        raise HTTPException(403, "csrf")
    request.state.max_mb = desk.max_upload // 2**20
    return form


def current_user(request: Request) -> users.User | None:
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = users.get(desk_of(request).db, uid)
    if user is None or user.epoch != request.session.get("epoch"):
        request.session.pop("uid", None)
        return None
    return user


def page(admin: bool = False):
    """An endpoint for logged-in users only (and admins only, with ``admin``)."""

    def decorate(endpoint):
        @wraps(endpoint)
        async def wrapped(request: Request):
            user = current_user(request)
            if user is None:
                if request.headers.get("HX-Request"):
                    return Response(status_code=401)
                target = urllib.parse.quote(_here(request), safe="")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            if admin and not user.admin:
                raise HTTPException(403, "admin_only")
            request.scope["user"] = user
            return await endpoint(request)

        return wrapped

    return decorate


def local_target(target: str | None, default: str = "/") -> str:
    """A redirect target only within the desk (no ``//host`` or ``http:``)."""
    target = target or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def int_param(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except (KeyError, ValueError):
        raise HTTPException(404, "not_found") from None


def attachment(path: Path, filename: str, media_type: str) -> Response:
    from starlette.responses import FileResponse

    quoted = urllib.parse.quote(filename)
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"},
    )


class Limits:
    """ASGI middleware: security headers on every response, and a bound on request
    bodies (an upload over the limit is refused before it is read)."""

    def __init__(self, app, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return await _plain(send, 413, "上传的文件太大。The upload is too large.")
        seen = 0

        async def bounded():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise TooLarge()
            return message

        async def secured(message):
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                names = {k.lower() for k, _ in out}
                for key, value in (
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ):
                    if key not in names:
                        out.append((key, value))
                message = {**message, "headers": out}
            await send(message)

        await self.app(scope, bounded, secured)


async def _plain(send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
