"""Liveness and readiness: ``/readyz`` names every part it checks, and what is wrong with each
part that is down, in its ``Readiness`` body (200 when all answer, 503 when one does not)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.wiring import Services
from support.fakes import FakeReranker, fake_services

PARTS = ("redis", "chroma", "keyword_index", "embedder")


def _client(services: Services) -> TestClient:
    return TestClient(create_app(services.settings, services=services))


def test_readyz_is_ready_and_names_every_part_it_checked() -> None:
    response = _client(fake_services()).get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": dict.fromkeys(PARTS, "ok")}


def test_readyz_names_the_part_that_is_down_and_why() -> None:
    services = fake_services()
    services.keywords.down = "restarting"  # type: ignore[attr-defined]
    response = _client(services).get("/readyz")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"  # a Readiness, no problem
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == dict.fromkeys(PARTS, "ok") | {
        "keyword_index": body["checks"]["keyword_index"]
    }
    assert "restarting" in body["checks"]["keyword_index"]


def test_readyz_checks_the_reranker_when_one_is_configured() -> None:
    reranker = FakeReranker()
    response = _client(fake_services(reranker=reranker)).get("/readyz")
    assert response.json()["checks"] == dict.fromkeys((*PARTS, "reranker"), "ok")


def test_healthz_is_alive_even_when_a_part_is_down() -> None:
    services = fake_services()
    services.store.down = "gone"  # type: ignore[attr-defined]
    client = _client(services)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
