"""``POST /admin/checks`` and ``GET /admin/checks/{id}`` on fakes: a check is queued (202 and
its Location), run as the worker would, and read back with ``docqa check``'s report; admin keys
only (403 for others, before the body is read), 404, 422 and 503 as problem+json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docqa.adapters import _redis
from docqa.adapters.checks import RedisCheckRuns
from docqa.api.app import create_app
from docqa.core.config import Settings
from docqa.core.errors import Unavailable
from docqa.ingest import intake
from docqa.wiring import Services, check_stores
from docqa.worker import jobs
from support.api import assert_problem
from support.check_fakes import FakeCheckRuns
from support.fakes import FakeQueue, fake_services
from support.listed_fakes import ListedCatalog, ListedKeywords, ListedStore, PayloadQueue

C = "docs"
TEXT = "Owls hunt at night. They turn their heads far round. " * 20
ADMIN, WRITER, READER = (f"{name}-key-0123456789abcdef" for name in ("admin", "writer", "reader"))
KEYS: list[dict[str, Any]] = [
    {"key": ADMIN, "name": "ops", "access": "admin"},
    {"key": WRITER, "name": "writer", "access": "write"},
    {"key": READER, "name": "reader", "collections": [C], "access": "read"},
]


@pytest.fixture
def services() -> Iterator[Services]:
    queue = PayloadQueue()
    made = fake_services(
        queue=queue,
        store=ListedStore(),
        keywords=ListedKeywords(),
        catalog=ListedCatalog(queue),
        checks=FakeCheckRuns(),
    )
    jobs.use(made)
    documents = [
        intake.text_document(
            C, f"{name}: {TEXT}", document_id=name, title=None, metadata={}, max_bytes=10_000
        )
        for name in ("owls", "bats")
    ]
    intake.accept(documents, made.catalog)
    assert isinstance(made.queue, FakeQueue)
    while (job := made.queue.take()) is not None:
        jobs.ingest([document.to_job() for document in job.documents])
    yield made
    jobs.use(None)


def client(services: Services, keys: list[dict[str, Any]] | None = None) -> TestClient:
    settings = Settings(api_keys=json.dumps(keys)) if keys else Settings()
    return TestClient(create_app(settings, services=services), raise_server_exceptions=False)


def run(services: Services) -> None:
    assert isinstance(services.checks, FakeCheckRuns)
    services.checks.run_all(check_stores(services))


def checked(api: TestClient, services: Services, body: dict[str, Any]) -> dict[str, Any]:
    """Post a check, run it as the worker would, and return it read back."""
    posted = api.post("/admin/checks", json=body)
    assert posted.status_code == 202, posted.text
    run(services)
    found = api.get(posted.headers["location"])
    assert found.status_code == 200, found.text
    result: dict[str, Any] = found.json()
    return result


def test_a_check_is_queued_then_read_back_with_its_report(services: Services) -> None:
    api = client(services)  # no keys: open, as today
    posted = api.post("/admin/checks", json={})
    assert posted.status_code == 202, posted.text
    body = posted.json()
    assert posted.headers["location"] == f"/admin/checks/{body['id']}"
    assert (body["state"], body["collections"], body["repair"], body["report"]) == (
        "queued",
        None,
        False,
        None,
    )
    assert api.get(posted.headers["location"]).json()["state"] == "queued"
    run(services)
    done = api.get(posted.headers["location"]).json()
    assert done["state"] == "done" and done["error"] is None
    summary = done["report"]["summary"]
    assert (summary["collections"], summary["documents"], summary["differences"]) == ([C], 2, 0)
    assert summary["vectors"] == summary["keywords"] > 2
    assert done["report"]["differences"] == []


def test_a_damaged_store_is_found_then_repaired_then_clean(services: Services) -> None:
    api = client(services)
    owls = [chunk_id for chunk_id, _ in services.store.chunks(C, "owls")]
    services.store.delete(C, owls[:2])
    found = checked(api, services, {"collection": C})
    assert found["collections"] == [C]
    assert found["report"]["summary"]["found"]["missing_vectors"] == 1
    (line,) = found["report"]["differences"]
    assert (line["kind"], line["document_id"], line["repair"]) == ("missing_vectors", "owls", None)

    repaired = checked(api, services, {"collection": C, "repair": True})
    assert repaired["repair"] is True
    assert repaired["report"]["summary"]["repaired"]["missing_vectors"] == 1
    assert "post the document again" in repaired["report"]["differences"][0]["repair"]
    clean = checked(api, services, {"collection": C})
    assert clean["report"]["summary"]["differences"] == 0


def test_only_admin_keys_may_check(services: Services) -> None:
    api = client(services, KEYS)
    for key in (WRITER, READER):
        auth = {"Authorization": f"Bearer {key}"}
        refused = api.post("/admin/checks", json={"repair": True}, headers=auth)
        assert_problem(refused, 403, "is not an admin key")
        bad_body = api.post("/admin/checks", json={"repair": "yes"}, headers=auth)
        assert_problem(bad_body, 403, "is not an admin key")  # refused before the body is read
        assert_problem(api.get("/admin/checks/abc", headers=auth), 403, "is not an admin key")
    assert_problem(api.post("/admin/checks", json={}), 401, "API key")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    posted = api.post("/admin/checks", json={"collection": C}, headers=admin)
    assert posted.status_code == 202, posted.text
    assert api.get(posted.headers["location"], headers=admin).json()["state"] == "queued"
    assert isinstance(services.checks, FakeCheckRuns)
    assert services.checks.views.keys() == {posted.json()["id"]}  # the refused queued nothing


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"repair": "yes"}, "repair"),
        ({"collection": "no spaces"}, "collection"),
        ({"collection": C, "everything": True}, "everything"),
        ([], "valid dictionary"),
    ],
)
def test_a_bad_body_is_422(services: Services, body: Any, mentions: str) -> None:
    assert_problem(client(services).post("/admin/checks", json=body), 422, mentions)


def test_an_unknown_or_malformed_id(services: Services) -> None:
    api = client(services)
    assert_problem(api.get("/admin/checks/0123abcd"), 404, "check '0123abcd' does not exist")
    assert_problem(api.get("/admin/checks/not%20an%20id"), 422, "check_id")


def test_an_outage_of_the_queue_is_503(services: Services) -> None:
    assert isinstance(services.checks, FakeCheckRuns)
    services.checks.down = "connection refused"
    api = client(services)
    assert_problem(api.post("/admin/checks", json={}), 503, "redis")
    assert_problem(api.get("/admin/checks/0123abcd"), 503, "redis")


def test_the_adapter_names_the_job_queue_when_redis_is_down() -> None:
    from rq import Queue

    unreachable = _redis.client("redis://127.0.0.1:1/0", connect_timeout_s=0.5)
    checks = RedisCheckRuns(Queue("docqa-ingest", connection=unreachable))
    with pytest.raises(Unavailable, match=r"the job queue \(redis\) is unavailable") as raised:
        checks.start(None, repair=False)
    assert raised.value.service == "redis"
    with pytest.raises(Unavailable, match=r"the job queue \(redis\)"):
        checks.status("0123abcd")


def test_a_failed_check_says_why(services: Services) -> None:
    api = client(services)
    posted = api.post("/admin/checks", json={})
    assert isinstance(services.store, ListedStore)
    services.store.down = "refused"
    run(services)
    failed = api.get(posted.headers["location"]).json()
    assert failed["state"] == "failed" and failed["report"] is None
    assert "refused" in failed["error"]


def test_the_routes_are_declared_with_their_errors(services: Services) -> None:
    settings = Settings(api_keys=json.dumps(KEYS), rate_limit_per_minute=60)
    paths = create_app(settings, services=services).openapi()["paths"]
    post, get = paths["/admin/checks"]["post"], paths["/admin/checks/{check_id}"]["get"]
    assert set(post["responses"]) == {"202", "400", "401", "403", "413", "422", "429", "503"}
    assert set(get["responses"]) == {"200", "401", "403", "404", "422", "429", "503"}
    assert "Location" in post["responses"]["202"]["headers"]
    open_paths = create_app(Settings(), services=services).openapi()["paths"]
    assert set(open_paths["/admin/checks"]["post"]["responses"]) == {
        "202", "400", "413", "422", "503"
    }  # fmt: skip
