"""The web page: ``/`` (redirects to ``/ui/``) and its static files, served without a key.

The page is plain HTML, CSS and one JavaScript module (``api/static/``), no build step and
nothing fetched from elsewhere at run time: the service runs offline. It calls the same JSON
routes as any client, with the API key the user typed (kept in the browser's sessionStorage,
sent as a bearer token); those routes keep their keys, only these files are open.

Every answer carries a Content-Security-Policy that allows scripts, styles and requests from
this origin only (no inline script, no ``eval``), so even text that slipped into the page as
HTML could not run; the page renders everything from documents with ``textContent`` anyway.
The accepted file types are filled into ``index.html`` from ``extraction.EXTENSIONS``, the
one list of what the API reads.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from docqa.ingest.formats.extraction import EXTENSIONS

router = APIRouter(include_in_schema=False)

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
# The paths the key guard leaves open (api/security.py).
PAGE_PATHS = frozenset({"/", "/ui", "/ui/", *(f"/ui/{name}" for name in FILES)})


@cache
def _content(name: str) -> bytes:
    data = resources.files("docqa.api").joinpath("static", name).read_bytes()
    if name == "index.html":
        data = data.replace(b"{{accept}}", ",".join(EXTENSIONS).encode())
    return data


def _file(name: str) -> Response:
    return Response(_content(name), media_type=FILES[name], headers=HEADERS)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", headers=HEADERS)


@router.get("/ui")
def ui_bare() -> RedirectResponse:
    return RedirectResponse("/ui/", headers=HEADERS)


@router.get("/ui/")
def page() -> Response:
    return _file("index.html")


@router.get("/ui/app.js")
def script() -> Response:
    return _file("app.js")


@router.get("/ui/style.css")
def style() -> Response:
    return _file("style.css")


@router.get("/ui/favicon.svg")
def icon() -> Response:
    return _file("favicon.svg")
