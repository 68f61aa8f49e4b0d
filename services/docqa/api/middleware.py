"""The request middleware: a request id for every request, its latency by route, one log line.

A plain ASGI middleware (not ``BaseHTTPMiddleware``): streamed answers pass through untouched,
and the ``request_id`` contextvar it sets is seen by the route, its threads and its logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from docqa.core.logs import clean_request_id, new_request_id, request_context
from docqa.core.metrics import HTTP_DURATION

log = logging.getLogger("docqa.api.requests")

HEADER = "X-Request-ID"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Not measured (Prometheus scrapes it); logged at DEBUG only (probes call them all the time).
UNMEASURED = {"/metrics"}
QUIET = {"/metrics", "/healthz", "/readyz"}


def route_of(scope: Scope) -> str:
    """The matched route's template (``/documents/{document_id}``); "unmatched" for none, so
    unknown paths cannot make a label per path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-request-id"),
            None,
        )
        rid = clean_request_id(given) or new_request_id()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        started = time.perf_counter()
        with request_context(rid):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                took = time.perf_counter() - started
                route = route_of(scope)
                method = scope.get("method", "")
                if route not in UNMEASURED:
                    HTTP_DURATION.labels(route, method, str(status)).observe(took)
                log.log(
                    logging.DEBUG if route in QUIET else logging.INFO,
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={
                        "method": method,
                        "route": route,
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round(took * 1000, 2),
                    },
                )
