"""Errors as RFC 9457 problem details (``application/problem+json``), mapped in one place."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from docqa.core import errors

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

STATUS: list[tuple[type[errors.DocqaError], int]] = [
    (errors.UnsupportedFileType, 415),
    (errors.InvalidInput, 422),
    (errors.TooLarge, 413),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.RateLimited, 429),
    (errors.Unavailable, 503),
    (errors.UpstreamError, 502),
]


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (served as `application/problem+json`)."""

    type: str = Field(default="about:blank", description="Always 'about:blank'")
    title: str = Field(description="A short, fixed summary of the kind of error")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong in this case, in words")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="For invalid requests: each error's `loc`, `msg` and `type`"
    )


def status_of(error: errors.DocqaError) -> int:
    return next((code for cls, code in STATUS if isinstance(error, cls)), 500)


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, **extra)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM, headers=headers
    )


def headers_of(error: errors.DocqaError) -> dict[str, str] | None:
    """Headers that go with the error: ``WWW-Authenticate`` for 401, ``Retry-After`` for 429."""
    if isinstance(error, errors.Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, errors.RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return None


def from_error(error: errors.DocqaError) -> JSONResponse:
    """The problem+json response for a domain error, headers included."""
    return problem(status_of(error), error.title, error.detail, headers=headers_of(error))


def from_http(exc: StarletteHTTPException, request: Request | None = None) -> JSONResponse:
    """The problem+json response for Starlette's and FastAPI's own errors, with every header
    the exception carries (RFC 9110: ``Allow`` on 405, ``WWW-Authenticate`` on 401,
    ``Retry-After`` on 429 and 503). FastAPI words an unreadable body (not UTF-8, say) as a
    bare 400 "There was an error parsing the body"; the cause it chains says what was wrong."""
    detail = str(exc.detail)
    if exc.status_code == 400 and exc.__cause__ is not None:
        detail = f"{detail}: {exc.__cause__}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and request is not None:
        headers["Allow"] = ", ".join(allowed(request))
    return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, detail, headers=headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed(request: Request) -> list[str]:
    """The methods of the resource at the request's path: as the OpenAPI document lists them
    for the path template that matches (a parameter never spans a "/" there), else every method
    some route answers there. (Starlette's 405 names only the first route that matched the
    path, where GET and POST /documents are two routes.)"""
    path = request.scope["path"]
    for template, item in request.app.openapi().get("paths", {}).items():
        if _template(template).fullmatch(path):
            return [method for method in METHODS if method.lower() in item]
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def _template(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]*\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


# One realistic body per status: what the handlers in ``install`` return for it.
EXAMPLES: dict[int, dict[str, Any]] = {
    400: {
        "title": "Bad Request",
        "detail": "There was an error parsing the body: 'utf-8' codec can't decode byte 0xff "
        "in position 0: invalid start byte",
    },
    401: {
        "title": "Unauthorized",
        "detail": "send a valid API key as 'Authorization: Bearer <key>'",
    },
    403: {"title": "Forbidden", "detail": "key 'ci' may not write collection 'default'"},
    404: {"title": "Not found", "detail": "document 'notes.md' is not in collection 'default'"},
    409: {
        "title": "Conflict",
        "detail": "collection 'default' was indexed with another embedding model; "
        "re-index into a new collection instead of mixing models",
    },
    413: {"title": "Too large", "detail": "file 'big.pdf' is over the limit of 10485760 bytes"},
    415: {
        "title": "Unsupported file type",
        "detail": "'slides.ppt': unsupported file type ('.ppt'); legacy PowerPoint 97-2003 "
        "files are not read; save it as .pptx; supported: .txt, .md, .html, .htm, .pdf, "
        ".docx, .pptx",
    },
    422: {
        "title": "Invalid request",
        "detail": "question: Value error, empty or only whitespace",
        "errors": [
            {
                "loc": "question",
                "msg": "Value error, empty or only whitespace",
                "type": "value_error",
            }
        ],
    },
    429: {
        "title": "Too many requests",
        "detail": "more than 60 requests this minute; retry after 12 s (see Retry-After)",
    },
    500: {"title": "Internal Server Error", "detail": "an unexpected error occurred; see the logs"},
    502: {"title": "Upstream error", "detail": "generator error 500: failed to load model"},
    503: {
        "title": "Service unavailable",
        "detail": "generator unreachable (/v1/chat/completions): All connection attempts failed",
    },
}


def example(code: int) -> dict[str, Any]:
    """A problem+json body for ``code``, as the exception handlers would write it."""
    found = EXAMPLES.get(code, {"title": HTTPStatus(code).phrase, "detail": "what was wrong"})
    body = Problem(status=code, **found)
    return body.model_dump(exclude_none=True)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for a route's error codes, each with a problem+json example."""
    return {code: _response(code) for code in codes}


def _response(code: int) -> dict[str, Any]:
    found: dict[str, Any] = {
        "description": HTTPStatus(code).phrase,
        "content": {
            PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example(code)}
        },
    }
    if code == 401:
        found["headers"] = {
            "WWW-Authenticate": {
                "description": "The scheme to authenticate with: Bearer",
                "schema": {"type": "string"},
            }
        }
    if code == 429:
        found["headers"] = {
            "Retry-After": {
                "description": "Seconds until the rate limit's window starts again",
                "schema": {"type": "integer"},
            }
        }
    return found


def _location(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"


def install(app: FastAPI) -> None:
    """Map every error to problem+json (``docqa.api.openapi`` documents it so)."""

    @app.exception_handler(errors.DocqaError)
    async def domain_error(_: Request, exc: errors.DocqaError) -> JSONResponse:
        return from_error(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        found = [
            {"loc": _location(e), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in found)
        return problem(422, "Invalid request", detail, errors=found)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return from_http(exc, request)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred; see the logs")
