"""Reads that need a collection's HNSW index wait while Chroma says its first write has not built
it yet ("Nothing found on disk"), a bounded while, and only for that answer: ``ChromaStore.query``
and ``ChromaStore.vectors`` on stand-ins for chromadb's ``Collection``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from chromadb.errors import InternalError, NotFoundError

from docqa.adapters import _chroma
from docqa.adapters.chroma import ChromaStore
from docqa.core.errors import Unavailable

NOT_BUILT = (
    "Error executing plan: Internal error: Error creating hnsw segment reader: "
    "Nothing found on disk"
)
ROW = {"document_id": "a", "position": 0}


class Collection:
    """Fails its first ``len(failures)`` reads with those errors, then answers one record."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.reads = 0

    def _read(self) -> None:
        self.reads += 1
        if self.failures:
            raise self.failures.pop(0)

    def query(self, **_: Any) -> dict[str, Any]:
        self._read()
        return {
            "ids": [["a:0"]],
            "documents": [["text"]],
            "metadatas": [[dict(ROW)]],
            "distances": [[0.25]],
        }

    def get(self, **_: Any) -> dict[str, Any]:
        self._read()
        return {
            "ids": ["a:0"],
            "documents": ["text"],
            "metadatas": [dict(ROW)],
            "embeddings": np.array([[1.0, 0.0]]),
        }


class Client:
    def get_max_batch_size(self) -> int:
        return 10


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(_chroma.time, "sleep", waits.append)
    return waits


def store_over(collection: Collection) -> ChromaStore:
    store = ChromaStore("http://127.0.0.1:1")
    store._connected = Client()  # type: ignore[assignment]
    store._collections["c"] = collection  # type: ignore[assignment]
    return store


def test_a_query_waits_while_the_index_is_being_built(slept: list[float]) -> None:
    collection = Collection(InternalError(NOT_BUILT), InternalError(NOT_BUILT))
    [hit] = store_over(collection).query("c", [1.0, 0.0], top_k=5)
    assert (hit.chunk_id, hit.score) == ("a:0", 0.75)
    assert collection.reads == 3
    assert slept == list(_chroma.INDEX_WAITS_S[:2])


def test_reading_vectors_waits_too(slept: list[float]) -> None:
    collection = Collection(InternalError(NOT_BUILT))
    [(chunk_id, _, vector)] = store_over(collection).vectors("c", ["a"])
    assert (chunk_id, vector, collection.reads) == ("a:0", [1.0, 0.0], 2)
    assert slept == [_chroma.INDEX_WAITS_S[0]]


def test_an_index_that_stays_missing_is_unavailable_once_the_waits_are_spent(
    slept: list[float],
) -> None:
    tries = len(_chroma.INDEX_WAITS_S) + 1
    collection = Collection(*[InternalError(NOT_BUILT) for _ in range(tries)])
    with pytest.raises(Unavailable) as caught:
        store_over(collection).query("c", [1.0, 0.0], top_k=5)
    assert caught.value.service == "chroma" and "Nothing found on disk" in str(caught.value)
    assert collection.reads == tries
    assert slept == list(_chroma.INDEX_WAITS_S)
    assert 4 < sum(slept) < 6  # seconds: the bound


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (InternalError("Error creating hnsw segment reader: Error loading hnsw"), Unavailable),
        (InternalError("Error executing plan: disk full"), Unavailable),
        (NotFoundError("Collection [x] does not exist"), NotFoundError),
        (ValueError("a bug"), ValueError),
    ],
)
def test_other_errors_are_not_retried(
    slept: list[float], error: Exception, raised: type[Exception]
) -> None:
    collection = Collection(error)
    with pytest.raises(raised):
        store_over(collection).query("c", [1.0, 0.0], top_k=5)
    assert collection.reads == 1 and slept == []
