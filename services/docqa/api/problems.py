"""Errors as RFC 9457 problem details (``application/problem+json``), mapped in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
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
    (errors.Unavailable, 503),
    (errors.UpstreamError, 502),
]


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


def status_of(error: errors.DocqaError) -> int:
    return next((code for cls, code in STATUS if isinstance(error, cls)), 500)


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, **extra)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for a route's error codes, each with a problem+json example."""
    return {
        code: {
            "description": HTTPStatus(code).phrase,
            "content": {
                PROBLEM: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": {
                        "title": HTTPStatus(code).phrase,
                        "status": code,
                        "detail": "what was wrong, in words",
                    },
                }
            },
        }
        for code in codes
    }


def _location(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DocqaError)
    async def domain_error(_: Request, exc: errors.DocqaError) -> JSONResponse:
        return problem(status_of(exc), exc.title, exc.detail)

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
