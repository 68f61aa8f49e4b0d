"""Errors as RFC 9457 problem details (``application/problem+json``), mapped in one place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from docqa import errors

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


# One realistic body per status: what the handlers in ``install`` return for it.
EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"title": "Bad Request", "detail": "Missing boundary in multipart."},
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
        "detail": "question: String should have at least 1 character",
        "errors": [
            {
                "loc": "question",
                "msg": "String should have at least 1 character",
                "type": "string_too_short",
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


def install(app: FastAPI, *, schemas: Sequence[type[BaseModel]] = ()) -> None:
    """Map every error to problem+json, and amend the app's OpenAPI document to say so (see
    ``openapi``); ``schemas`` are further models that routes refer to by hand (``$ref``)."""

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
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred; see the logs")

    models: list[type[BaseModel]] = [Problem, *schemas]
    app.openapi = lambda: openapi(app, models)  # type: ignore[method-assign]


_SCHEMAS = "#/components/schemas/"
_DEFAULT_422 = f"{_SCHEMAS}HTTPValidationError"


def openapi(app: FastAPI, models: Sequence[type[BaseModel]] = (Problem,)) -> dict[str, Any]:
    """FastAPI's document, amended once (then cached): ``models`` (``Problem``, which the
    ``responses`` entries refer to, and any other model FastAPI does not collect by itself) in
    components, and FastAPI's default 422 (``HTTPValidationError``, ``application/json``)
    replaced by the problem+json that ``invalid_request`` really returns."""
    if app.openapi_schema is None:
        spec = FastAPI.openapi(app)
        for operation in _operations(spec):
            answers = operation.get("responses", {})
            default = answers.get("422", {}).get("content", {}).get("application/json", {})
            if default.get("schema", {}).get("$ref") == _DEFAULT_422:
                answers["422"] = responses(422)[422]
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        _, found = models_json_schema(
            [(model, "validation") for model in models], ref_template=f"{_SCHEMAS}{{model}}"
        )
        for name, schema in found.get("$defs", {}).items():
            schemas.setdefault(name, schema)
        # In this order: HTTPValidationError refers to ValidationError.
        for unused in ("HTTPValidationError", "ValidationError"):
            if f"{_SCHEMAS}{unused}" not in _refs(spec):
                schemas.pop(unused, None)
        spec["components"]["schemas"] = dict(sorted(schemas.items()))
        app.openapi_schema = spec
    return app.openapi_schema


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return [
        operation
        for item in spec.get("paths", {}).values()
        for method, operation in item.items()
        if method in methods
    ]


def _refs(node: Any) -> set[str]:
    """Every ``$ref`` under ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()
