"""API keys, scopes, the rate limit and CORS in apps built with their own Settings (TestClient)
against the test stack's Redis, Chroma and worker; and that collections never leak into each
other, also under concurrent use."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.stack.local import Stack
from support.api import Answer, assert_problem, ingest, wait_for_job
from support.stacks import settings_for


def new_key() -> str:
    return f"k-{uuid.uuid4().hex}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Clock:
    """The rate limiter's clock, moved by hand. It starts 15 s into a minute of its own, far
    from now, so no other test's requests ever count in its windows."""

    def __init__(self) -> None:
        self.now = (30_000_000 + random.randrange(1_000_000)) * 60 + 15.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def app_for(stack: Stack, clock: Clock | None = None, **settings: Any) -> Iterator[TestClient]:
    app = create_app(settings_for(stack, **settings))
    if clock is not None:
        app.state.rate_limiter.clock = clock
    with TestClient(app) as client:
        yield client


def test_keys_and_scopes(api: httpx.Client, local_stack: Stack, collection: str) -> None:
    ingest(api, collection, {"id": "owl", "text": "Owls hunt at night and fly silently."})
    writer, reader, other = new_key(), new_key(), new_key()
    keys = [
        {"key": writer, "name": "writer", "collections": [collection], "access": "write"},
        {"key": reader, "name": "reader", "collections": [collection], "access": "read"},
        {"key": other, "name": "other", "collections": ["elsewhere"], "access": "write"},
    ]
    with app_for(local_stack, api_keys=json.dumps(keys)) as client:
        assert client.get("/healthz").status_code == 200
        for headers in ({}, bearer("wrong-key-0123456789abcdef"), {"Authorization": writer}):
            refused = client.get("/documents", params={"collection": collection}, headers=headers)
            assert_problem(refused, 401, "key")
            assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/readyz").status_code == 200  # open to probes, which carry no key

        question = {"question": "When do owls hunt?", "collection": collection}
        found = client.post("/search", json=question, headers=bearer(reader))
        assert found.status_code == 200 and found.json()["hits"][0]["document_id"] == "owl"
        query = {"collection": collection}
        listed = client.get("/documents", params=query, headers=bearer(reader))
        assert [d["id"] for d in listed.json()["items"]] == ["owl"]

        body = {"collection": collection, "documents": [{"id": "x", "text": "x"}]}
        files = {"files": ("x.txt", b"some text", "text/plain")}
        outside = {
            "search": lambda h: client.post("/search", json=question, headers=h),
            "ask": lambda h: client.post("/ask", json=question | {"max_tokens": 4}, headers=h),
            "list": lambda h: client.get("/documents", params=query, headers=h),
            "get": lambda h: client.get("/documents/owl", params=query, headers=h),
            "chunks": lambda h: client.get("/documents/owl/chunks", params=query, headers=h),
            "delete": lambda h: client.delete("/documents/owl", params=query, headers=h),
            "post json": lambda h: client.post("/documents", json=body, headers=h),
            "post form": lambda h: client.post("/documents", data=query, files=files, headers=h),
        }
        for what, call in outside.items():
            assert call(bearer(other)).status_code == 403, what
        for what in ("delete", "post json", "post form"):  # read-only
            assert_problem(outside[what](bearer(reader)), 403, "reader")

        accepted = client.post("/documents", data=query, files=files, headers=bearer(writer))
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        assert client.get(f"/jobs/{job_id}", headers=bearer(reader)).status_code == 200
        assert_problem(client.get(f"/jobs/{job_id}", headers=bearer(other)), 403, "other")
        assert wait_for_job(api, job_id)["state"] == "finished"
        deleted = client.delete("/documents/owl", params=query, headers=bearer(writer))
        assert deleted.status_code == 204


def test_rate_limit(local_stack: Stack, collection: str) -> None:
    limited, spare = new_key(), new_key()
    keys = [
        {"key": limited, "name": f"limited-{uuid.uuid4().hex[:8]}"},
        {"key": spare, "name": f"spare-{uuid.uuid4().hex[:8]}"},
    ]
    clock = Clock()
    settings = {"api_keys": json.dumps(keys), "rate_limit_per_minute": 3}
    with app_for(local_stack, clock, **settings) as client:

        def listing(key: str) -> Answer:
            return client.get("/documents", params={"collection": collection}, headers=bearer(key))

        for _ in range(3):
            assert listing(limited).status_code == 200
        refused = listing(limited)
        assert_problem(refused, 429, "requests this minute")
        assert refused.headers["retry-after"] == "45"  # 15 s into the minute
        assert client.get("/readyz", headers=bearer(limited)).status_code == 200  # open paths
        assert (
            client.get("/healthz", headers=bearer(limited)).status_code == 200
        )  # are never limited
        assert listing(spare).status_code == 200  # its own count

        clock.now += 44
        assert listing(limited).status_code == 429  # still the same minute
        clock.now += 1
        assert listing(limited).status_code == 200  # a new one


def test_rate_limit_per_client_without_keys(local_stack: Stack) -> None:
    with app_for(local_stack, Clock(), rate_limit_per_minute=2) as client:
        codes = [client.get(f"/jobs/{uuid.uuid4().hex}").status_code for _ in range(5)]
        assert codes == [404, 404, 429, 429, 429]


def test_cors_only_when_configured(local_stack: Stack) -> None:
    preflight = {"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"}
    with app_for(local_stack, cors_origins="https://ui.example") as client:
        response = client.options("/search", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://ui.example"
        other = client.options("/search", headers=preflight | {"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with app_for(local_stack) as client:
        response = client.get("/healthz", headers={"Origin": "https://ui.example"})
        assert "access-control-allow-origin" not in response.headers
        assert client.options("/search", headers=preflight).status_code == 405


TEXTS = [
    "Glaciers carve valleys as they slowly move downhill.",
    "A glacier is a river of ice that flows under its own weight.",
    "Ice sheets and glaciers store most of the fresh water on Earth.",
]


@pytest.fixture
def two_collections(api: httpx.Client) -> tuple[str, str]:
    a, b = f"isoa{uuid.uuid4().hex[:8]}", f"isob{uuid.uuid4().hex[:8]}"
    jobs = []
    for name in (a, b):  # the same texts, so each collection would match the other's question
        docs = [{"id": f"{name}-{n}", "text": text} for n, text in enumerate(TEXTS)]
        response = api.post("/documents", json={"collection": name, "documents": docs})
        assert response.status_code == 202, response.text
        jobs.append(response.json()["job_id"])
    for job_id in jobs:
        assert wait_for_job(api, job_id)["state"] == "finished"
    return a, b


def test_collections_never_leak_under_concurrent_use(
    local_stack: Stack, two_collections: tuple[str, str]
) -> None:
    a, b = two_collections
    key_a, key_b, admin = new_key(), new_key(), new_key()
    keys = [
        {"key": key_a, "name": "a", "collections": [a], "access": "read"},
        {"key": key_b, "name": "b", "collections": [b], "access": "read"},
        {"key": admin, "name": "admin"},
    ]
    with app_for(local_stack, api_keys=json.dumps(keys)) as client:

        def one(n: int) -> list[str]:
            """One request, alternating collections, keys and routes; what leaked, if any."""
            mine, key = (a, key_a) if n % 2 else (b, key_b)
            key = admin if n % 3 == 0 else key
            route = n // 2 % 3
            if route == 0:
                body = {"question": "How do glaciers move?", "collection": mine, "top_k": 10}
                response = client.post("/search", json=body, headers=bearer(key))
                ids = [hit["document_id"] for hit in response.json()["hits"]]
            elif route == 1:
                response = client.get(
                    "/documents", params={"collection": mine}, headers=bearer(key)
                )
                items = response.json()["items"]
                ids = [d["id"] for d in items] + [d["collection"] for d in items]
            else:
                doc = f"{mine}-{n % 3}"
                response = client.get(
                    f"/documents/{doc}/chunks", params={"collection": mine}, headers=bearer(key)
                )
                ids = [c["id"] for c in response.json()]  # "<document id>:<position>:<hash>"
            assert response.status_code == 200, response.text
            assert ids, f"nothing found in {mine}"
            return [i for i in ids if not i.startswith(mine)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            leaked = [x for found in pool.map(one, range(8 * 20)) for x in found]
        assert not leaked, f"documents from the other collection: {leaked}"

        for mine, theirs in ((a, b), (b, a)):  # /ask cites only its own collection
            body = {"question": "How do glaciers move?", "collection": mine, "max_tokens": 4}
            answer = client.post("/ask", json=body, headers=bearer(admin))
            assert answer.status_code == 200, answer.text
            sources = [s["document_id"] for s in answer.json()["sources"]]
            assert sources and all(s.startswith(mine) for s in sources), sources
            crossed = body | {"collection": theirs}
            key = key_a if mine == a else key_b
            assert client.post("/ask", json=crossed, headers=bearer(key)).status_code == 403
