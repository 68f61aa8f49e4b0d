"""API keys scoped to collections, a per-key rate limit, request body limits, and CORS.

``install(app, settings)`` puts one ASGI middleware (``Guard``) in front of every route but
``/healthz``. With keys configured (``DOCQA_API_KEYS`` and/or ``DOCQA_API_KEYS_FILE``) it wants
``Authorization: Bearer <key>`` (401 otherwise) and leaves the caller's ``Principal`` in
``request.state.principal``; routes then check the collection they touch with
``principal.require(collection, access)`` (403 outside the key's scope). Without keys every
caller is ``OPEN``: all collections, read and write.

Keys are kept only as SHA-256 digests and checked against every configured digest with
``hmac.compare_digest`` (no early exit), so neither the comparison nor which key matched shows
in the timing. A key's ``name``, never the key, is what logs and the rate limiter use.

A key is a JSON object ``{"key": "...", "name": "ci", "collections": ["a", "b"] or ["*"],
"access": "read" | "write"}`` (in a JSON list), or in the compact form
``name:key:coll1,coll2:access`` (entries separated by ``;`` or white space; ``name:key`` and a
bare ``key`` mean every collection, write access). ``write`` includes ``read``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis import Redis
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docqa.api import problems
from docqa.api.schemas import COLLECTION_PATTERN
from docqa.config import Settings
from docqa.errors import DocqaError, Forbidden, RateLimited, TooLarge, Unauthorized, Unavailable

log = logging.getLogger(__name__)

Access = Literal["read", "write"]
ALL = "*"
OPEN_PATHS = frozenset({"/healthz"})
UPLOAD = ("POST", "/documents")  # bounded by max_request_bytes; every other body by max_body_bytes
MIN_KEY_LENGTH = 16
WINDOW_S = 60
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_COLLECTION = re.compile(COLLECTION_PATTERN)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's name and scope (``collections`` None: every collection)."""

    name: str
    collections: frozenset[str] | None
    access: Access

    def may(self, collection: str, access: Access) -> bool:
        in_scope = self.collections is None or collection in self.collections
        return in_scope and (access == "read" or self.access == "write")

    def require(self, collection: str, access: Access) -> None:
        if not self.may(collection, access):
            log.info("key %r refused: %s on collection %r", self.name, access, collection)
            raise Forbidden(f"key {self.name!r} may not {access} collection {collection!r}")

    def require_access(self, access: Access) -> None:
        """Refuse early (before reading a body) a key that may not ``access`` anything."""
        if access == "write" and self.access != "write":
            raise Forbidden(f"key {self.name!r} is read-only")


OPEN = Principal(name="anonymous", collections=None, access="write")


class KeySpec(BaseModel):
    """One configured key, as written in ``DOCQA_API_KEYS`` or the keys file."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=MIN_KEY_LENGTH, repr=False)
    name: str | None = Field(default=None, pattern=_NAME.pattern)
    collections: list[str] = Field(default=[ALL], min_length=1)
    access: Access = "write"


@dataclass(frozen=True)
class ApiKey:
    digest: bytes
    principal: Principal


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_keys(text: str, source: str = "DOCQA_API_KEYS") -> list[KeySpec]:
    """Key specs from JSON (a list of objects, or one object) or the compact form."""
    text = text.strip()
    if not text:
        return []
    try:
        if text[0] in "[{":
            found = json.loads(text)
            items = found if isinstance(found, list) else [found]
            return [KeySpec.model_validate(item) for item in items]
        return [_compact(entry) for entry in re.split(r"[;\s]+", text) if entry]
    except ValidationError as exc:  # never echo the input: it holds keys
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{source}: invalid API keys ({where})") from None
    except ValueError as exc:  # json's messages give a position, not the text
        raise ValueError(f"{source}: invalid API keys ({exc})") from None


def _compact(entry: str) -> KeySpec:
    parts = entry.split(":")
    if len(parts) == 1:
        return KeySpec(key=parts[0])
    if len(parts) > 4:
        raise ValueError("too many ':' in a compact key entry")
    name, key, *rest = parts
    fields: dict[str, Any] = {"name": name, "key": key}
    if rest:
        fields["collections"] = [c for c in rest[0].split(",") if c]
    if len(rest) > 1:
        fields["access"] = rest[1]
    return KeySpec.model_validate(fields)


def build_keys(specs: Sequence[KeySpec]) -> list[ApiKey]:
    keys: list[ApiKey] = []
    names: set[str] = set()
    digests: set[bytes] = set()
    for n, spec in enumerate(specs, start=1):
        name = spec.name or f"key{n}"
        if name in names:
            raise ValueError(f"API key name {name!r} is used twice")
        key_digest = digest(spec.key)
        if key_digest in digests:
            raise ValueError(f"API key {name!r} repeats another key")
        bad = [c for c in spec.collections if c != ALL and not _COLLECTION.match(c)]
        if bad:
            raise ValueError(f"API key {name!r}: invalid collection names {bad}")
        collections = None if ALL in spec.collections else frozenset(spec.collections)
        names.add(name)
        digests.add(key_digest)
        keys.append(ApiKey(key_digest, Principal(name, collections, spec.access)))
    return keys


def load_keys(settings: Settings) -> list[ApiKey]:
    """The configured keys (from the setting and the file together); [] when none are."""
    specs: list[KeySpec] = []
    if settings.api_keys is not None:
        specs += parse_keys(settings.api_keys.get_secret_value())
    if settings.api_keys_file is not None:
        path = settings.api_keys_file
        specs += parse_keys(path.read_text(), source=str(path))
        if not specs:
            raise ValueError(f"{path}: no API keys in the keys file")
    return build_keys(specs)


class Keyring:
    """Turns an ``Authorization`` header into a ``Principal``."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys = tuple(keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def identify(self, authorization: str | None) -> Principal:
        if not self._keys:
            return OPEN
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send a valid API key as 'Authorization: Bearer <key>'")
        presented = digest(token)
        found: Principal | None = None
        for key in self._keys:  # every key, every time: no early exit
            if hmac.compare_digest(presented, key.digest):
                found = key.principal
        if found is None:
            raise Unauthorized("the API key is not valid")
        return found


class RateLimiter:
    """A fixed window per caller in Redis: INCR a key named after the minute, EXPIRE it."""

    def __init__(self, per_minute: int, prefix: str = "docqa:ratelimit") -> None:
        self.per_minute = per_minute
        self.prefix = prefix

    def hit(self, redis: Redis, who: str, now: float | None = None) -> None:
        """Count one request by ``who``; ``RateLimited`` once over the limit this window."""
        now = time.time() if now is None else now
        window = int(now // WINDOW_S)
        key = f"{self.prefix}:{who}:{window}"
        try:
            pipe = redis.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_S)
            count = int(pipe.execute()[0])
        except RedisError as exc:
            detail = f"the rate limiter cannot reach Redis: {exc}"
            raise Unavailable(detail, service="redis") from exc
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
        upload = (scope["method"], scope["path"].rstrip("/")) == UPLOAD
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        try:
            principal = self.keyring.identify(headers.get("authorization"))
            scope.setdefault("state", {})["principal"] = principal
            if self.limiter is not None:
                who = f"key:{principal.name}" if self.keyring.enabled else _client(scope)
                redis: Redis = scope["app"].state.services.redis
                await run_in_threadpool(self.limiter.hit, redis, who)
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
    """Add the guard (and CORS, when origins are configured) to ``app``; document the bearer
    scheme in its OpenAPI. Raises ``ValueError`` for badly configured keys."""
    keyring = Keyring(load_keys(settings))
    per_minute = settings.rate_limit_per_minute
    limiter = RateLimiter(per_minute) if per_minute else None
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
    base = app.openapi

    def openapi() -> dict[str, Any]:
        spec = base()
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        if "apiKey" not in schemes:
            schemes["apiKey"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key, when the service has keys configured",
            }
            for path, item in spec.get("paths", {}).items():
                if path not in OPEN_PATHS:
                    for operation in item.values():
                        if isinstance(operation, dict):
                            operation["security"] = [{"apiKey": []}]
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
