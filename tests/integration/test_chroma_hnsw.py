"""A real ``chroma run`` server keeps the HNSW settings ``ChromaStore`` creates a collection with
(the shipped ``chroma_hnsw``, or configured ones), with cosine space; and a collection created
before a change keeps its own (Chroma fixes them at creation). Only a Chroma server is started,
not the stack (``bench.experiments.chroma_server``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bench.experiments.chroma_server import ChromaServer, chroma_server

from docqa.adapters.chroma import PREFIX, ChromaStore
from docqa.core.config import SHIPPED
from docqa.core.models import Chunk, EmbeddingSpec

SPEC = EmbeddingSpec("test/model", 4, normalized=True, max_input_tokens=64)


@pytest.fixture(scope="module")
def server() -> Iterator[ChromaServer]:
    with chroma_server() as running:
        yield running


def hnsw_of(server: ChromaServer, name: str) -> dict[str, Any]:
    found = server.client.get_collection(PREFIX + name).configuration["hnsw"]
    assert found is not None
    return dict(found)


def test_a_new_collection_has_the_shipped_settings(server: ChromaServer) -> None:
    store = ChromaStore(server.url)
    store.ensure_collection("shipped", SPEC)
    found = hnsw_of(server, "shipped")
    assert found["space"] == "cosine"
    assert {k: found[k] for k in SHIPPED["chroma_hnsw"]} == SHIPPED["chroma_hnsw"]


def test_configured_settings_apply_to_new_collections_only(server: ChromaServer) -> None:
    url = server.url
    before = ChromaStore(url, hnsw={"max_neighbors": 12, "sync_threshold": 3000})
    before.ensure_collection("before", SPEC)
    after = ChromaStore(url, hnsw={"max_neighbors": 24, "ef_construction": 150})
    after.ensure_collection("after", SPEC)
    after.ensure_collection("before", SPEC)  # exists: used as it is
    old, new = hnsw_of(server, "before"), hnsw_of(server, "after")
    assert (old["max_neighbors"], old["sync_threshold"]) == (12, 3000)
    assert (new["max_neighbors"], new["ef_construction"], new["space"]) == (24, 150, "cosine")
    # and the collection created before still takes writes and answers queries
    after.upsert("before", [Chunk("d", 0, "text")], [[1.0, 0.0, 0.0, 0.0]])
    [hit] = after.query("before", [1.0, 0.0, 0.0, 0.0], top_k=1)
    assert hit.document_id == "d" and hit.score == pytest.approx(1.0)
