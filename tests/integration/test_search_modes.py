"""Keyword, dense and hybrid search over HTTP: the keyword index (its own Redis) follows every
ingest, replace and delete, and a new client of that Redis sees the same chunks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from docqa.adapters.keyword import RedisKeywordIndex
from docqa.stack.local import Stack
from support.api import assert_problem, chunks, ingest, wait_for_job

DOCUMENTS: list[dict[str, Any]] = [
    {"id": "tower", "text": "The Eiffel Tower was finished in 1889 by Gustave Eiffel's firm."},
    {"id": "bridge", "text": "The Zakim bridge carries traffic over the Charles river in Boston."},
    {
        "id": "cheese",
        "text": "Roquefort is a sheep milk cheese from the south of France.",
        "metadata": {"kind": "food"},
    },
]


def search(api: httpx.Client, collection: str, question: str, **extra: Any) -> list[str]:
    body = {"question": question, "collection": collection, "top_k": 3, **extra}
    response = api.post("/search", json=body)
    assert response.status_code == 200, response.text
    return [hit["document_id"] for hit in response.json()["hits"]]


def test_each_mode_finds_the_document(api: httpx.Client, collection: str) -> None:
    assert ingest(api, collection, *DOCUMENTS)["state"] == "finished"
    assert search(api, collection, "Zakim", mode="keyword") == ["bridge"]
    assert search(api, collection, "Which bridge crosses the Charles?", mode="dense")[0] == "bridge"
    assert search(api, collection, "Which bridge crosses the Charles?")[0] == "bridge"  # hybrid
    assert search(api, collection, "cheese", mode="keyword", filter={"kind": "food"}) == ["cheese"]
    assert search(api, collection, "Eiffel", mode="keyword", filter={"kind": "food"}) == []
    hits = api.post(
        "/search", json={"question": "Zakim", "collection": collection, "mode": "keyword"}
    ).json()["hits"]
    assert hits[0]["score"] > 0 and hits[0]["metadata"]["position"] == 0


def test_replace_and_delete_reach_the_keyword_index(
    api: httpx.Client, collection: str, local_stack: Stack
) -> None:
    assert ingest(api, collection, *DOCUMENTS)["state"] == "finished"
    replaced = {"id": "bridge", "text": "The Millau viaduct spans the Tarn valley."}
    assert ingest(api, collection, replaced)["state"] == "finished"
    assert search(api, collection, "Zakim", mode="keyword") == []
    assert search(api, collection, "Millau viaduct", mode="keyword") == ["bridge"]

    response = api.delete("/documents/bridge", params={"collection": collection})
    assert response.status_code == 204
    assert search(api, collection, "Millau viaduct", mode="keyword") == []
    assert search(api, collection, "Millau viaduct", mode="hybrid") != ["bridge"]

    # Another client of the keyword Redis (an API restarted) sees exactly what is stored.
    reopened = RedisKeywordIndex.from_url(local_stack.env["DOCQA_KEYWORD_REDIS_URL"])
    assert reopened.count(collection) == 2
    assert [hit.document_id for hit in reopened.search(collection, "Roquefort", 5)] == ["cheese"]


def test_bad_mode_and_rerank_without_a_reranker(api: httpx.Client, collection: str) -> None:
    assert ingest(api, collection, DOCUMENTS[0])["state"] == "finished"
    body = {"question": "tower", "collection": collection}
    assert_problem(api.post("/search", json={**body, "mode": "fuzzy"}), 422, "mode")
    assert_problem(api.post("/search", json={**body, "rerank": True}), 422, "no reranker")
    assert search(api, collection, "?!", mode="keyword") == []  # no words: no keyword hits


def test_ask_in_keyword_mode_cites_the_match(api: httpx.Client, collection: str) -> None:
    assert ingest(api, collection, *DOCUMENTS)["state"] == "finished"
    body = {"question": "Roquefort", "collection": collection, "mode": "keyword", "max_tokens": 8}
    response = api.post("/ask", json=body)
    assert response.status_code == 200, response.text
    assert [source["document_id"] for source in response.json()["sources"]] == ["cheese"]


ORCHARD = {
    "orchard.md": (
        b"---\ntitle: Orchard handbook\n---\n# Apples\n\nApples grow on trees.\n\n"
        b"## Pruning\n\nCut back in late winter.\n",
        "text/markdown",
    ),
    "orchard.html": (
        b"<html><head><title>Orchard handbook</title></head><body><h1>Apples</h1>"
        b"<p>Apples grow on trees.</p><h2>Pruning</h2><p>Cut back in late winter.</p>"
        b"</body></html>",
        "text/html",
    ),
}


@pytest.mark.parametrize("name", sorted(ORCHARD))
def test_hits_carry_title_and_section_and_are_found_by_them(
    api: httpx.Client, collection: str, name: str
) -> None:
    """A page's chunks are indexed after its title and heading path: the keyword index finds
    the section under "Pruning" by the page's title alone, which its text does not hold; every
    hit names both, and its text is the page's own."""
    data, kind = ORCHARD[name]
    response = api.post(
        "/documents", data={"collection": collection}, files={"files": (name, data, kind)}
    )
    assert response.status_code == 202, response.text
    assert wait_for_job(api, response.json()["job_id"])["state"] == "finished"

    body = {"question": "handbook", "collection": collection, "mode": "keyword", "top_k": 5}
    hits = api.post("/search", json=body).json()["hits"]
    assert {hit["title"] for hit in hits} == {"Orchard handbook"}
    [pruning] = [hit for hit in hits if hit["section"] == "Apples \u203a Pruning"]
    assert "handbook" not in pruning["text"].lower() and "late winter" in pruning["text"]
    stored = {chunk["id"]: chunk["text"] for chunk in chunks(api, collection, name)}
    assert stored[pruning["chunk_id"]] == pruning["text"]  # the stored slice, no prefix

    for mode in ("dense", "hybrid"):
        found = api.post("/search", json={**body, "question": "When to prune?", "mode": mode})
        assert all(hit["section"] and hit["title"] for hit in found.json()["hits"])
    ask = {"question": "When are apple trees cut back?", "collection": collection, "max_tokens": 8}
    sources = api.post("/ask", json={**ask, "mode": "keyword"}).json()["sources"]
    assert sources and all(s["title"] == "Orchard handbook" and s["section"] for s in sources)
