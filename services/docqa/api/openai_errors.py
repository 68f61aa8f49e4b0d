"""Errors in OpenAI's shape on the ``/v1`` routes.

An OpenAI client reads ``{"error": {"message", "type", "param", "code"}}`` (``application/json``)
and picks its exception by the status code. Every other docqa route answers problem+json, and
so do the parts that run before any route: the key guard (401), the rate limiter (429), the
body limits (413), FastAPI's validation (422) and not-found (404). ``OpenAIErrors`` is an ASGI
middleware outside all of them: on a path under ``/v1/`` it rewrites a problem+json response,
whoever wrote it, into OpenAI's shape, keeping the status and headers (``Retry-After``,
``WWW-Authenticate``); the problem's ``detail`` is the ``message``. Other responses, streams
included, pass through untouched.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docqa.api.problems import PROBLEM
from docqa.api.schemas.chat import ErrorBody

PREFIX = "/v1/"

# OpenAI's error types and codes, by status.
TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "bad_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    409: ("invalid_request_error", "conflict"),
    413: ("invalid_request_error", "request_too_large"),
    415: ("invalid_request_error", "unsupported_media_type"),
    422: ("invalid_request_error", "invalid_request"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    502: ("api_error", "upstream_error"),
    503: ("api_error", "service_unavailable"),
}


def error_body(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    kind, code = TYPES.get(status, ("api_error" if status >= 500 else "invalid_request_error", ""))
    code = code or HTTPStatus(status).phrase.lower().replace(" ", "_")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def from_problem(problem: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's error body for a problem+json body."""
    status = int(problem.get("status") or 500)
    errors = problem.get("errors") or []
    param = str(errors[0].get("loc")) if errors and isinstance(errors[0], dict) else None
    message = str(problem.get("detail") or problem.get("title") or HTTPStatus(status).phrase)
    return error_body(status, message, param)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for a /v1 route's error codes (OpenAI's shape)."""
    return {
        code: {
            "model": ErrorBody,
            "description": HTTPStatus(code).phrase,
            "content": {
                "application/json": {
                    "example": error_body(code, _EXAMPLES.get(code, HTTPStatus(code).phrase)),
                }
            },
            **(
                {"headers": {"Retry-After": {"schema": {"type": "integer"}}}} if code == 429 else {}
            ),
        }
        for code in codes
    }


_EXAMPLES = {
    401: "send a valid API key as 'Authorization: Bearer <key>'",
    403: "key 'ci' may not read collection 'default'",
    404: "model 'docqa/nope': there is no collection 'nope' (GET /v1/models lists them)",
    422: "messages: List should have at least 1 item after validation, not 0",
    429: "more than 60 requests this minute; retry after 12 s (see Retry-After)",
}


class OpenAIErrors:
    """ASGI middleware: problem+json responses under ``/v1/`` become OpenAI error bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body: list[bytes] = []

        async def sending(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = MutableHeaders(raw=list(message["headers"])).get("content-type")
                if (content_type or "").startswith(PROBLEM):
                    held = message  # answered once the whole body is in
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await _rewritten(held, b"".join(body), send)
                return
            await send(message)

        await self.app(scope, receive, sending)


async def _rewritten(start: Message, body: bytes, send: Send) -> None:
    try:
        problem = json.loads(body)
    except ValueError:
        problem = {"status": start["status"], "detail": body.decode(errors="replace")}
    problem.setdefault("status", start["status"])
    raw = json.dumps(from_problem(problem)).encode()
    headers = MutableHeaders(raw=list(start["headers"]))
    headers["content-type"] = "application/json"
    headers["content-length"] = str(len(raw))
    await send({**start, "headers": headers.raw})
    await send({"type": "http.response.body", "body": raw, "more_body": False})
