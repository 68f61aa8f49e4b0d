"""API keys (parsing, constant-time matching, scopes), the rate limiter's window, the guard's
refusals and CORS, without the stack (the app's lifespan is never entered: every request here is
answered by the guard or needs nothing else)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docqa.api import security
from docqa.api.app import create_app
from docqa.api.security import OPEN, Keyring, Principal, RateLimiter, build_keys, parse_keys
from docqa.config import Settings
from docqa.errors import Forbidden, RateLimited, Unauthorized

ADMIN = "admin-key-0123456789abcdef"
READER = "reader-key-0123456789abcdef"
KEYS = [
    {"key": ADMIN, "name": "admin"},
    {"key": READER, "name": "reader", "collections": ["a", "b"], "access": "read"},
]


def keyring(specs: list[dict[str, Any]] = KEYS) -> Keyring:
    return Keyring(build_keys(parse_keys(json.dumps(specs))))


def test_json_keys_with_defaults() -> None:
    admin, reader = build_keys(parse_keys(json.dumps(KEYS)))
    assert admin.principal == Principal("admin", None, "write")
    assert reader.principal == Principal("reader", frozenset({"a", "b"}), "read")
    single = parse_keys(json.dumps({"key": ADMIN}))
    assert [s.name for s in single] == [None]


def test_compact_keys() -> None:
    keys = build_keys(parse_keys(f"{ADMIN}; ci:{READER}:a,b:read\nops:{'x' * 20}"))
    assert [k.principal for k in keys] == [
        Principal("key1", None, "write"),
        Principal("ci", frozenset({"a", "b"}), "read"),
        Principal("ops", None, "write"),
    ]
    assert parse_keys("  ") == []


def test_only_digests_are_kept() -> None:
    keys = build_keys(parse_keys(json.dumps(KEYS)))
    assert keys[0].digest == security.digest(ADMIN) and len(keys[0].digest) == 32
    assert ADMIN not in repr(keys) and ADMIN not in repr(parse_keys(json.dumps(KEYS)))


@pytest.mark.parametrize(
    "text",
    [
        json.dumps([{"key": "short"}]),
        json.dumps([{"key": ADMIN, "access": "admin"}]),
        json.dumps([{"key": ADMIN, "collections": ["no spaces"]}]),
        json.dumps([{"key": ADMIN, "collections": []}]),
        json.dumps([{"key": ADMIN, "extra": 1}]),
        json.dumps([{"key": ADMIN, "name": "x"}, {"key": READER, "name": "x"}]),
        json.dumps([{"key": ADMIN}, {"key": ADMIN}]),
        f"a:{ADMIN}:c:write:more",
        f"a:{ADMIN}:c:owner",
        "[not json",
    ],
)
def test_bad_keys_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        build_keys(parse_keys(text))
    assert ADMIN not in str(raised.value) and "short" not in str(raised.value)


def test_keys_from_the_setting_and_a_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([KEYS[1]]))
    settings = Settings(api_keys=json.dumps([KEYS[0]]), api_keys_file=path)
    assert [k.principal.name for k in security.load_keys(settings)] == ["admin", "reader"]
    assert security.load_keys(Settings()) == []
    path.write_text("")
    with pytest.raises(ValueError, match="no API keys"):
        security.load_keys(Settings(api_keys_file=path))


def test_identify() -> None:
    ring = keyring()
    assert ring.identify(f"Bearer {READER}").name == "reader"
    assert ring.identify(f"bearer  {ADMIN} ").name == "admin"
    for header in (None, "", "Bearer", f"Basic {ADMIN}", "Bearer wrong-key-0123456789", ADMIN):
        with pytest.raises(Unauthorized):
            ring.identify(header)
    assert Keyring([]).identify(None) is OPEN and not Keyring([]).enabled


def test_every_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = security.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", counting)
    ring = keyring()
    ring.identify(f"Bearer {ADMIN}")  # the first key matches: the others are compared still
    assert len(calls) == len(KEYS)
    assert all(a == security.digest(ADMIN) and len(b) == 32 for a, b in calls)
    calls.clear()
    with pytest.raises(Unauthorized):
        ring.identify("Bearer nope")
    assert len(calls) == len(KEYS)


def test_scopes() -> None:
    reader = Principal("r", frozenset({"a"}), "read")
    writer = Principal("w", frozenset({"a"}), "write")
    assert reader.may("a", "read") and not reader.may("a", "write")
    assert not reader.may("b", "read")
    assert writer.may("a", "write") and writer.may("a", "read") and not writer.may("b", "read")
    assert OPEN.may("anything", "write")
    with pytest.raises(Forbidden, match="may not write collection 'a'"):
        reader.require("a", "write")
    with pytest.raises(Forbidden):
        reader.require_access("write")
    writer.require_access("write")


class FakeRedis:
    """Just what ``RateLimiter`` uses: a pipeline of INCR and EXPIRE."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.ttls: dict[str, int] = {}
        self._ops: list[tuple[str, str, int]] = []

    def pipeline(self, transaction: bool = True) -> FakeRedis:
        return self

    def incr(self, key: str) -> None:
        self._ops.append(("incr", key, 0))

    def expire(self, key: str, seconds: int) -> None:
        self._ops.append(("expire", key, seconds))

    def execute(self) -> list[int]:
        out = []
        for op, key, seconds in self._ops:
            if op == "incr":
                self.counts[key] = self.counts.get(key, 0) + 1
                out.append(self.counts[key])
            else:
                self.ttls[key] = seconds
                out.append(1)
        self._ops = []
        return out


def test_rate_limit_window() -> None:
    redis = FakeRedis()
    limiter = RateLimiter(3)
    start = 600 * 60 + 15.5  # 15.5 s into a window
    for _ in range(3):
        limiter.hit(redis, "key:ci", now=start)  # type: ignore[arg-type]
    with pytest.raises(RateLimited) as raised:
        limiter.hit(redis, "key:ci", now=start + 1)  # type: ignore[arg-type]
    assert raised.value.retry_after == 44  # ceil(60 - 16.5)
    limiter.hit(redis, "key:other", now=start)  # type: ignore[arg-type]
    limiter.hit(redis, "key:ci", now=start + 45)  # type: ignore[arg-type]  # the next window
    assert set(redis.ttls.values()) == {120}


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    settings = Settings(
        api_keys=json.dumps(KEYS), max_body_bytes=1000, cors_origins=["https://ui.example"]
    )
    yield TestClient(create_app(settings), raise_server_exceptions=False)


def test_the_guard_refuses_before_any_route(guarded: TestClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    for response in (
        guarded.post("/search", json={"question": "q"}),
        guarded.get("/documents"),
        guarded.get("/readyz"),
        guarded.get("/metrics"),
        guarded.get("/jobs/x", headers={"Authorization": "Bearer not-a-key-at-all"}),
    ):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"


def test_bodies_are_bounded(guarded: TestClient) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    big = {"question": "q" * 2000}
    response = guarded.post("/search", json=big, headers=auth)
    assert response.status_code == 413 and "limit is 1000" in response.json()["detail"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield json.dumps(big).encode()

    response = guarded.post(
        "/ask", content=chunked(), headers=auth | {"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_cors_only_when_configured(guarded: TestClient) -> None:
    preflight = {
        "Origin": "https://ui.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    response = guarded.options("/search", headers=preflight)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://ui.example"
    refused = guarded.get("/documents", headers={"Origin": "https://ui.example"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "https://ui.example"

    plain = TestClient(create_app(Settings()), raise_server_exceptions=False)
    response = plain.get("/healthz", headers={"Origin": "https://ui.example"})
    assert "access-control-allow-origin" not in response.headers


def test_openapi_declares_the_bearer_scheme() -> None:
    spec = create_app(Settings()).openapi()
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert spec["paths"]["/search"]["post"]["security"] == [{"apiKey": []}]
    assert "Retry-After" in spec["paths"]["/search"]["post"]["responses"]["429"]["headers"]
