"""The guard: the rate limiter's window, refusals before any route, body limits and CORS,
without the stack (the app's lifespan is never entered: every request here is answered by the
guard or needs nothing else)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.api.deps import _services
from docqa.api.security import RateLimiter
from docqa.core.config import Settings
from docqa.core.errors import RateLimited, Unavailable
from support.fakes import FakeRequestCounter

ADMIN = "admin-key-0123456789abcdef"
KEYS = [{"key": ADMIN, "name": "admin"}]


def test_rate_limit_window() -> None:
    counter = FakeRequestCounter()
    limiter = RateLimiter(3)
    start = 600 * 60 + 15.5  # 15.5 s into a window
    for _ in range(3):
        limiter.hit(counter, "key:ci", now=start)
    with pytest.raises(RateLimited) as raised:
        limiter.hit(counter, "key:ci", now=start + 1)
    assert raised.value.retry_after == 44  # ceil(60 - 16.5)
    limiter.hit(counter, "key:other", now=start)
    limiter.hit(counter, "key:ci", now=start + 45)  # the next window
    assert set(counter.ttls.values()) == {120}


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
        guarded.get("/metrics"),
        guarded.get("/jobs/x", headers={"Authorization": "Bearer not-a-key-at-all"}),
    ):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"


class _Down:
    """Every part of the service, down: each check raises, so /readyz answers 503."""

    def __getattr__(self, name: str) -> _Down:
        return self

    def __call__(self, *args: object) -> _Down:
        raise Unavailable("this part is down", service="test")


def test_readyz_answers_probes_without_a_key(guarded: TestClient) -> None:
    # Kubernetes probes carry no key: with keys configured, /readyz must still answer (here
    # 503 with its Readiness body, every part being down), never 401.
    guarded.app.dependency_overrides[_services] = lambda: _Down()  # type: ignore[attr-defined]
    response = guarded.get("/readyz")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] and all("is down" in v for v in body["checks"].values()), body
    assert guarded.get("/documents").status_code == 401  # the rest stays guarded


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


def test_openapi_declares_the_bearer_scheme_with_keys() -> None:
    spec = create_app(Settings(api_keys=json.dumps(KEYS), rate_limit_per_minute=60)).openapi()
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert spec["paths"]["/search"]["post"]["security"] == [{"apiKey": []}]
    assert "Retry-After" in spec["paths"]["/search"]["post"]["responses"]["429"]["headers"]
