"""Redis going away under a running stack: stopped (connections refused) or paused with SIGSTOP
(connections accepted, never answered, as in a network partition).

While it is away, every route that needs Redis answers 503 problem+json naming redis (never a
500, never a hang: the client's timeout is far below what an unbounded wait would take),
``/healthz`` stays 200, ``/readyz`` is 503 and names redis, and ``/search`` (dense: Chroma and
the embedder only) keeps working. Once it is back, everything accepted before is still there
and the same API and worker processes work again.

These tests stop and pause Redis, so they run on a private stack (no generator: nothing here
asks the model), not the session one that other tests share.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from support.api import assert_problem, assert_stored_once, chunks, wait_for_job
from support.stacks import QUICK_RETRIES, private_stack

# Far below an unbounded wait, far above the Redis clients' socket timeout (5 s) per request.
CLIENT_TIMEOUT_S = 20
TEXT = (
    "The lighthouse keeper of Skerryvore logged every passing ship in a green ledger. "
    "In the winter of 1881 the ledger recorded forty-one ships and one whale."
)


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with private_stack(
        tmp_path_factory,
        "redis-outage-stack",
        why="it stops and pauses Redis",
        extra_env=QUICK_RETRIES,
        generator=False,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(outage_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=outage_stack.base_url, timeout=CLIENT_TIMEOUT_S) as api:
        yield api


@dataclass
class Accepted:
    """A document indexed before the outage, and what the routes need to name it."""

    collection: str
    document_id: str
    job_id: str
    chunk_id: str


def _accept_one(api: httpx.Client) -> Accepted:
    collection = f"t{uuid.uuid4().hex[:12]}"
    response = api.post(
        "/documents",
        json={"collection": collection, "documents": [{"id": "kept", "text": TEXT}]},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert wait_for_job(api, job_id, timeout_s=120)["state"] == "finished"
    assert_stored_once(api, collection, "kept")
    return Accepted(collection, "kept", job_id, chunks(api, collection, "kept")[0]["id"])


def _redis_routes(api: httpx.Client, doc: Accepted) -> dict[str, Callable[[], httpx.Response]]:
    """One call of each route that needs Redis (the catalog, the queue or the feedback log)."""
    c = {"collection": doc.collection}
    path = f"/documents/{doc.document_id}"
    return {
        "POST /documents": lambda: api.post(
            "/documents",
            json={**c, "documents": [{"id": "during", "text": "Sent while Redis was away."}]},
        ),
        "GET /jobs/{id}": lambda: api.get(f"/jobs/{doc.job_id}"),
        "GET /documents": lambda: api.get("/documents", params=c),
        "GET /documents/{id}": lambda: api.get(path, params=c),
        "GET /documents/{id}/chunks": lambda: api.get(f"{path}/chunks", params=c),
        "DELETE /documents/{id}": lambda: api.delete(path, params=c),
        "POST /collections/{name}/reindex": lambda: api.post(
            f"/collections/{doc.collection}/reindex", json={"target": doc.collection + "v2"}
        ),
        "POST /feedback": lambda: api.post(
            "/feedback",
            json={**c, "question": "How many ships?", "relevant": [doc.chunk_id]},
        ),
        "GET /metrics": lambda: api.get("/metrics"),
    }


def _not_a_redis_problem(response: httpx.Response) -> str | None:
    """Why ``response`` is not a 503 problem+json naming redis (None when it is one)."""
    if response.status_code != 503:
        return f"status {response.status_code}: {response.text[:300]}"
    if response.headers.get("content-type") != "application/problem+json":
        return f"content type {response.headers.get('content-type')}: {response.text[:300]}"
    body: dict[str, Any] = response.json()
    if body.get("status") != 503 or "redis" not in str(body.get("detail", "")).lower():
        return f"body {body}"
    return None


def _assert_redis_is_away(api: httpx.Client, doc: Accepted) -> None:
    wrong = {}
    for route, call in _redis_routes(api, doc).items():
        try:
            why = _not_a_redis_problem(call())
        except httpx.TimeoutException as exc:  # a hang: the Redis client had no timeout
            why = f"no answer within {CLIENT_TIMEOUT_S} s ({type(exc).__name__})"
        except httpx.TransportError as exc:  # the API dropped the connection (after a 500)
            why = f"{type(exc).__name__}: {exc}"
        if why:
            wrong[route] = why
    assert not wrong, wrong

    assert api.get("/healthz").status_code == 200  # a liveness probe must not restart the API
    ready = api.get("/readyz")
    assert ready.status_code == 503, ready.text
    checks = ready.json()["checks"]
    assert checks["redis"] != "ok" and "redis" in checks["redis"].lower(), checks
    assert checks["chroma"] == "ok", checks

    search = api.post(
        "/search",
        json={"collection": doc.collection, "question": "How many ships?", "mode": "dense"},
    )
    assert search.status_code == 200, search.text
    assert [hit["document_id"] for hit in search.json()["hits"]] == [doc.document_id]


def _wait_until_ready(api: httpx.Client) -> None:
    last: list[httpx.Response] = []

    def ready() -> bool:
        last[:] = [api.get("/readyz")]
        return last[0].status_code == 200

    wait_until(ready, 60, lambda: f"/readyz once Redis was back (last: {last[0].text})")
    assert last[0].json()["checks"]["redis"] == "ok"


def _assert_recovered(api: httpx.Client, stack: Stack, doc: Accepted, pids: dict[str, int]) -> None:
    """What was accepted before is all there, and the same processes take new work."""
    _wait_until_ready(api)
    c = {"collection": doc.collection}
    listed = api.get("/documents", params=c)
    assert listed.status_code == 200, listed.text
    assert [d["id"] for d in listed.json()["items"]] == [doc.document_id]
    assert_stored_once(api, doc.collection, doc.document_id)
    assert api.get(f"/jobs/{doc.job_id}").json()["state"] == "finished"
    search = api.post(
        "/search",
        json={"collection": doc.collection, "question": "How many ships?", "mode": "dense"},
    )
    assert search.status_code == 200, search.text
    assert search.json()["hits"][0]["document_id"] == doc.document_id
    assert api.get("/metrics").status_code == 200

    response = api.post(
        "/documents",
        json={**c, "documents": [{"id": "after", "text": "Sent once Redis was back."}]},
    )
    assert response.status_code == 202, response.text
    assert wait_for_job(api, response.json()["job_id"], timeout_s=180)["state"] == "finished"
    assert_stored_once(api, doc.collection, "after")

    for name, pid in pids.items():
        proc = stack.procs[name]
        assert proc.pid == pid and proc.poll() is None, f"the {name} was restarted or died"


def _pids(stack: Stack) -> dict[str, int]:
    return {name: stack.procs[name].pid for name in ("api", "worker")}


def test_redis_stopped(outage_stack: Stack, client: httpx.Client) -> None:
    doc = _accept_one(client)
    pids = _pids(outage_stack)
    outage_stack.stop_service("redis")  # SIGTERM: the append-only file keeps queue and catalog
    try:
        _assert_redis_is_away(client, doc)
    finally:
        outage_stack.start_service("redis")
    _assert_recovered(client, outage_stack, doc, pids)
    # the document sent during the outage was refused whole: no record, no job
    during = client.get("/documents/during", params={"collection": doc.collection})
    assert_problem(during, 404, "during")


def test_redis_paused(outage_stack: Stack, client: httpx.Client) -> None:
    doc = _accept_one(client)
    pids = _pids(outage_stack)
    redis_pid = outage_stack.procs["redis"].pid
    os.kill(redis_pid, signal.SIGSTOP)  # accepts connections (the kernel does), answers nothing
    try:
        _assert_redis_is_away(client, doc)
    finally:
        os.kill(redis_pid, signal.SIGCONT)
    _assert_recovered(client, outage_stack, doc, pids)
