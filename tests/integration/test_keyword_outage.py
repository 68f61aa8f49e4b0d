"""The keyword index's Redis crashing under a running stack: hybrid search answers from the
dense list and says what it left out, keyword search answers 503, the queue's Redis carries
on; restarted, the keyword Redis has every chunk back (its append-only file).

A private stack: the test kills one of its processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from redis import Redis

from docqa.stack.local import Stack
from support.api import assert_problem, ingest
from support.stacks import private_stack

DOCUMENTS = [
    {"id": "tower", "text": "The Eiffel Tower was finished in 1889 by Gustave Eiffel's firm."},
    {"id": "bridge", "text": "The Zakim bridge carries traffic over the Charles river in Boston."},
]


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with private_stack(
        tmp_path_factory, "keyword-outage", why="it kills the keyword Redis", generator=False
    ) as running:
        yield running


def _search(api: httpx.Client, collection: str, mode: str) -> httpx.Response:
    body = {"question": "Which bridge crosses the Charles?", "collection": collection}
    return api.post("/search", json={**body, "mode": mode, "top_k": 2})


def _degraded_count(api: httpx.Client) -> float:
    for line in api.get("/metrics").text.splitlines():
        if line.startswith('docqa_search_degraded_total{left_out="keyword"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_crashed_keyword_redis_degrades_hybrid_and_fails_keyword(
    outage_stack: Stack,
) -> None:
    collection = f"t{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=outage_stack.base_url, timeout=120) as api:
        assert ingest(api, collection, *DOCUMENTS)["state"] == "finished"
        whole = _search(api, collection, "hybrid")
        assert whole.status_code == 200 and whole.json()["degraded"] == []
        assert whole.json()["hits"][0]["document_id"] == "bridge"
        before = _degraded_count(api)

        crashed = outage_stack.procs["keyword-redis"]
        crashed.kill()  # SIGKILL: as a crash would leave it
        crashed.wait()
        try:
            hybrid = _search(api, collection, "hybrid")
            assert hybrid.status_code == 200, hybrid.text
            assert hybrid.json()["degraded"] == ["keyword"]
            assert hybrid.json()["hits"][0]["document_id"] == "bridge"
            assert _degraded_count(api) == before + 1
            assert_problem(_search(api, collection, "keyword"), 503, "keyword_index")
            assert _search(api, collection, "dense").json()["degraded"] == []
            queue = Redis.from_url(outage_stack.env["DOCQA_REDIS_URL"], socket_timeout=5)
            assert queue.ping()  # the queue's and catalog's Redis is another process
            listed = api.get("/documents", params={"collection": collection})
            assert listed.status_code == 200 and listed.json()["total"] == 2
        finally:
            outage_stack.start_service("keyword-redis")

        again = _search(api, collection, "keyword")
        assert again.status_code == 200, again.text
        assert [hit["document_id"] for hit in again.json()["hits"]] == ["bridge"]
        assert _search(api, collection, "hybrid").json()["degraded"] == []
