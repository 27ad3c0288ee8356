"""The Starlette application: routes, error pages, security headers.

Every registered page (:mod:`.views`) is served as HTML at its path and as
JSON at ``/api`` + its path. Errors never stop the server:

* an unknown artifact, version or alias, or an invalid name: 404, with a link back;
* a bad parameter (``limit=abc``): 400;
* a catalog or store that cannot be read (no such bucket, no credentials,
  a damaged file): 503 with tether's one-line message;
* anything else: 500 with a generic page (the traceback goes to the log only).

Every answer carries a Content-Security-Policy allowing only this server's
own stylesheet and script (no inline script, no other origin, no frames, no
form posts elsewhere), ``nosniff`` and ``no-referrer``.
"""

from __future__ import annotations

import importlib
import logging
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..diff import CHANGE_KINDS, folder_of, human_size
from ..errors import (
    InvalidArgumentError,
    InvalidNameError,
    TetherError,
    UnknownArtifactError,
    UnknownVersionError,
)
from . import present, views
from .reader import Reader

#: Modules whose :func:`.views.page` registrations are served (runs and lineage add theirs here).
PAGE_MODULES = ("tether.ui.views", "tether.ui.runs")
HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store")]
log = logging.getLogger("tether.ui")


def security_headers(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await app(scope, receive, send_with_headers if scope["type"] == "http" else send)

    return wrapped


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(human=human_size, href=present.href, redact=present.redact, shown=present.shown_value,
                       pinned=present.pinned_uri, strength=present.strength, folder=folder_of)
    env.globals.update(qs=lambda **kw: "?" + urlencode({k: v for k, v in kw.items() if v not in (None, "")}),
                       tether_version=__version__, kinds=CHANGE_KINDS, group_by_folder=views.group_by_folder)
    return env


def _status_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, (UnknownArtifactError, UnknownVersionError, InvalidNameError)) or (
            isinstance(exc, TetherError) and isinstance(exc, KeyError)):
        return 404, "Not found"
    if isinstance(exc, InvalidArgumentError):
        return 400, "Bad request"
    if isinstance(exc, (TetherError, OSError)):
        return 503, "The catalog cannot be read"
    return 500, "Something went wrong"


def create_app(root: str | None = None) -> Starlette:
    """The read-only web app over the catalog at ``root`` (None: the default catalog)."""
    for module in PAGE_MODULES:
        importlib.import_module(module)
    reader = Reader(root)
    env = make_env()

    def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
        html = env.get_template(template).render(request=request, catalog_root=_root_shown(reader), **context)
        return HTMLResponse(html, status_code=status)

    def fail(request: Request, exc: BaseException, as_json: bool) -> Response:
        status, title = _status_of(exc)
        if status == 500:
            log.error("tether ui: %s %s failed:\n%s", request.method, request.url.path,
                      "".join(traceback.format_exception(exc)))
        message = present.message(exc) if status != 500 else "an unexpected error; the server log has details"
        if as_json:
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return render(request, "error.html", {"status": status, "title": title, "message": message}, status)

    def endpoint(page: views.Page, as_json: bool) -> Any:
        def handle(request: Request) -> Response:
            try:
                data = page.build(reader, dict(request.path_params), dict(request.query_params))
            except Exception as exc:  # noqa: BLE001 - every failure is a page; the server keeps serving
                return fail(request, exc, as_json)
            if as_json:
                return JSONResponse(views.jsonable(data))
            try:
                return render(request, page.template, data)
            except Exception as exc:  # noqa: BLE001
                return fail(request, exc, as_json)
        handle.__name__ = f"{page.name}_{'json' if as_json else 'html'}"
        return handle

    routes: list[Any] = [Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    for p in views.PAGES:
        routes.append(Route("/api" + (p.path if p.path != "/" else "/artifacts"), endpoint(p, True)))
        routes.append(Route(p.path, endpoint(p, False)))

    async def not_found(request: Request, exc: Exception) -> Response:
        as_json = request.url.path.startswith("/api/")
        return fail(request, UnknownArtifactError(f"no page at {request.url.path}"), as_json)

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.reader = reader
    return security_headers(app)  # type: ignore[return-value]


def _root_shown(reader: Reader) -> str:
    try:
        return present.redact(reader.root)
    except Exception:  # noqa: BLE001 - no driver for the root: the page says so below
        return present.redact(reader.root_given or "(default catalog)")
