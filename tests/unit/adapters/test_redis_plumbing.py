"""Redis outages become ``Unavailable(service="redis")`` at the adapter boundary, and nothing else
does: each adapter that talks to Redis is called against a port where nothing listens (refused),
a server that accepts and never answers (paused: the socket timeout), and one that answers every
command with an error (``ResponseError``: a bug, not an outage, so it is not mapped).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import ResponseError
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from docqa import wiring
from docqa.adapters import _redis
from docqa.adapters.catalog import RedisCatalog, RedisLease
from docqa.adapters.feedback import FeedbackRecord, RedisFeedbackLog
from docqa.adapters.queue import IngestQueue
from docqa.adapters.request_counter import RedisRequestCounter
from docqa.api.keys import Keyring
from docqa.api.security import Guard, RateLimiter
from docqa.core.config import Settings
from docqa.core.errors import Unavailable
from docqa.core.models import DocumentRecord, IngestJob

HANG_LIMIT_S = 10  # far above the socket timeout below; reaching it means a client without one


class _Server:
    """A TCP server on a free port: ``silent`` reads and never answers; otherwise every command
    gets ``-ERR``."""

    def __init__(self, *, silent: bool) -> None:
        self.silent = silent
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            self.clients.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            if not self.silent:  # one error per command (each starts with a RESP array, "*")
                conn.sendall(b"-ERR this server refuses every command\r\n" * data.count(b"*"))

    def close(self) -> None:
        self.sock.close()
        for conn in self.clients:
            conn.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(port: int) -> Redis:
    return _redis.client(f"redis://127.0.0.1:{port}/0", connect_timeout_s=1, socket_timeout_s=0.3)


@pytest.fixture(params=["refused", "paused"])
def down(request: pytest.FixtureRequest) -> Iterator[Redis]:
    """A client of a Redis that is stopped (nothing listens) or paused (never answers)."""
    if request.param == "refused":
        yield _client(_closed_port())
        return
    server = _Server(silent=True)
    yield _client(server.port)
    server.close()


@pytest.fixture
def erring() -> Iterator[Redis]:
    server = _Server(silent=False)
    yield _client(server.port)
    server.close()


def _queue(redis: Redis) -> IngestQueue:
    return IngestQueue(redis, "ingest", timeout_s=60, retries=0, intervals_s=[])


def _record() -> DocumentRecord:
    return DocumentRecord(
        id="d",
        collection="c",
        title=None,
        metadata={},
        source="text",
        content_hash="h",
        status="queued",
        job_id="j",
    )


def _feedback() -> FeedbackRecord:
    return FeedbackRecord(id="f", collection="c", question="q", relevant=(), irrelevant=())


def _calls(redis: Redis) -> dict[str, Callable[[], Any]]:
    """One call of every method of every adapter that talks to Redis."""
    queue = _queue(redis)
    catalog = RedisCatalog(redis, owner="w", queue=queue)
    feedback = RedisFeedbackLog(redis)

    def lock() -> None:
        with catalog.lock("c", "d"):
            pass

    held = redis.lock("docqa:lock:c:d", timeout=60, thread_local=False)
    held.local.token = b"w:token"  # as if acquired: renewing it is what is under test

    return {
        "catalog.get": lambda: catalog.get("c", "d"),
        "catalog.put": lambda: catalog.put([_record()]),
        "catalog.get_many": lambda: catalog.get_many("c", ["d", "e"]),
        "catalog.submit": lambda: catalog.submit([_record()], IngestJob(id="j", documents=[])),
        "catalog.update": lambda: catalog.update("c", "d", "h", status="indexed"),
        "catalog.delete": lambda: catalog.delete("c", "d"),
        "catalog.page": lambda: catalog.page("c", 0, 10),
        "catalog.lock": lock,
        "catalog.release_locks_of": lambda: catalog.release_locks_of("w"),
        "catalog.check": catalog.check,
        "lease.reacquire": RedisLease(held).reacquire,
        "queue.status": lambda: queue.status("0123abcd"),
        "queue.counts": queue.counts,
        "queue.enqueue": lambda: queue.enqueue([], job_id="0123abcd"),
        "feedback.append": lambda: feedback.append(_feedback()),
        "feedback.read": lambda: feedback.read("c"),
        "rate limiter": lambda: RateLimiter(5).hit(RedisRequestCounter(redis), "key:ci"),
    }


def _outcome(call: Callable[[], Any]) -> BaseException | None:
    """What ``call`` raised (None: it returned), run in a thread so that a hang fails the test."""
    raised: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            raised.append(None)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_S)
    assert raised, f"no answer within {HANG_LIMIT_S} s: a Redis client without a socket timeout"
    return raised[0]


def test_an_outage_is_unavailable_naming_redis(down: Redis) -> None:
    wrong = {}
    for name, call in _calls(down).items():
        exc = _outcome(call)
        if not (isinstance(exc, Unavailable) and exc.service == "redis" and "redis" in exc.detail):
            wrong[name] = repr(exc)
    assert not wrong, wrong


def test_a_refusal_by_redis_is_not_an_outage(erring: Redis) -> None:
    """``ResponseError`` (Redis said no to a command: a bug) passes through unmapped, to be the
    500 it is."""
    wrong = {}
    for name, call in _calls(erring).items():
        exc = _outcome(call)
        if not isinstance(exc, ResponseError):
            wrong[name] = repr(exc)
    assert not wrong, wrong


def test_the_guard_answers_503_naming_redis_when_the_rate_limiter_cannot_count() -> None:
    async def anything(_: object) -> PlainTextResponse:
        return PlainTextResponse("reached")

    app = Starlette(routes=[Route("/search", anything, methods=["POST"])])
    app.add_middleware(
        Guard,
        keyring=Keyring([]),
        limiter=RateLimiter(5),
        max_body_bytes=1000,
        max_upload_bytes=1000,
    )
    app.state.services = SimpleNamespace(counter=RedisRequestCounter(_client(_closed_port())))
    response = TestClient(app).post("/search", json={"question": "q"})
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 503 and "redis" in body["detail"].lower(), body


def test_the_service_s_redis_client_has_bounded_waits() -> None:
    kwargs = wiring.redis_client(Settings()).connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] == _redis.CONNECT_TIMEOUT_S
    assert kwargs["socket_timeout"] == _redis.SOCKET_TIMEOUT_S
