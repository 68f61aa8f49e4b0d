"""The guard in front of every route: API keys (``docqa.api.keys``), a per-key rate limit,
request body limits, and CORS.

``install(app, settings)`` puts one ASGI middleware (``Guard``) in front of every route but
the probes (``/healthz``, ``/readyz``). With keys configured (``DOCQA_API_KEYS`` and/or
``DOCQA_API_KEYS_FILE``) it wants ``Authorization: Bearer <key>`` (401 otherwise) and
leaves the caller's ``Principal`` in ``request.state.principal``; routes then check the
collection they touch with ``principal.require(collection, access)`` (403 outside the key's
scope), and the operators' routes (``/admin/...``) with ``principal.require_access("admin")``.
Without keys every caller is ``OPEN``: all collections, read and write, and the admin routes.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docqa.api import problems
from docqa.api.keys import Keyring, load_keys
from docqa.api.routes.ui import PAGE_PATHS
from docqa.core.config import Settings
from docqa.core.errors import DocqaError, RateLimited, TooLarge
from docqa.core.ports import RequestCounter

# Probes (a load balancer, Kubernetes) carry no key: /readyz says only what is down.
OPEN_PATHS = frozenset({"/healthz", "/readyz", *PAGE_PATHS})  # PAGE_PATHS: the web page
UPLOAD = ("POST", "/documents")  # bounded by max_request_bytes; every other body by max_body_bytes
IMPORT = re.compile(r"/collections/[^/]+/import")  # POST: vectors in bulk, bounded as an upload
WINDOW_S = 60


class RateLimiter:
    """A fixed window per caller: one count per caller and minute, in the shared
    ``RequestCounter`` (Redis), so every API process sees the same count."""

    def __init__(
        self,
        per_minute: int,
        prefix: str = "docqa:ratelimit",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute = per_minute
        self.prefix = prefix
        self.clock = clock  # wall-clock seconds; windows are its whole minutes

    def hit(self, counter: RequestCounter, who: str, now: float | None = None) -> None:
        """Count one request by ``who``; ``RateLimited`` once over the limit this window."""
        now = self.clock() if now is None else now
        window = int(now // WINDOW_S)
        key = f"{self.prefix}:{who}:{window}"
        count = counter.count(key, 2 * WINDOW_S)  # an outage: 503 naming redis, on every route
        if count > self.per_minute:
            retry_after = max(1, math.ceil((window + 1) * WINDOW_S - now))
            raise RateLimited(
                f"more than {self.per_minute} requests this minute; "
                f"retry after {retry_after} s (see Retry-After)",
                retry_after=retry_after,
            )


class Guard:
    """ASGI middleware: authenticate, rate-limit, and bound the body of every request but
    those to ``OPEN_PATHS``; refusals are problem+json."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keyring: Keyring,
        limiter: RateLimiter | None,
        max_body_bytes: int,
        max_upload_bytes: int,
    ) -> None:
        self.app = app
        self.keyring = keyring
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = scope["path"].rstrip("/")
        upload = (scope["method"], path) == UPLOAD or (
            scope["method"] == "POST" and IMPORT.fullmatch(path) is not None
        )
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        try:
            principal = self.keyring.identify(headers.get("authorization"))
            scope.setdefault("state", {})["principal"] = principal
            if self.limiter is not None:
                who = f"key:{principal.name}" if self.keyring.enabled else _client(scope)
                counter: RequestCounter = scope["app"].state.services.counter
                await run_in_threadpool(self.limiter.hit, counter, who)
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise TooLarge(f"request body is {length} bytes; the limit is {limit}")
        except DocqaError as exc:
            await problems.from_error(exc)(scope, receive, send)
            return
        await _bounded(self.app, scope, receive, send, limit)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


async def _bounded(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Run ``app``, refusing with 413 a body (chunked, without Content-Length) over ``limit``."""
    seen = 0
    over = False
    answered = False

    async def counting() -> Message:
        nonlocal seen, over
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                raise TooLarge(f"request body is over the limit of {limit} bytes")
        return message

    async def refuse() -> None:
        nonlocal answered
        if not answered:
            answered = True
            error = TooLarge(f"request body is over the limit of {limit} bytes")
            await problems.from_error(error)(scope, receive, send)

    async def sending(message: Message) -> None:
        if over:  # whatever the app made of the aborted read, the answer is 413
            if message["type"] == "http.response.start":
                await refuse()
            return
        await send(message)

    try:
        await app(scope, counting, sending)
    except Exception:
        if not over:
            raise
        await refuse()


def install(app: FastAPI, settings: Settings) -> None:
    """Add the guard (and CORS, when origins are configured) to ``app`` (``docqa.api.openapi``
    documents the bearer scheme). Raises ``ValueError`` for badly configured keys."""
    keyring = Keyring(load_keys(settings))
    per_minute = settings.rate_limit_per_minute
    limiter = RateLimiter(per_minute) if per_minute else None
    app.state.rate_limiter = limiter  # the guard's, so that tests can set its clock
    app.add_middleware(
        Guard,
        keyring=keyring,
        limiter=limiter,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_request_bytes,
    )
    if settings.cors_origins:  # added last: outermost, so preflights never meet the guard
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
