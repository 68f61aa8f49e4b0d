"""``ChromaStore.vectors``: a page of documents' chunks read in pages of Chroma's max batch size,
on a stand-in for chromadb's ``Collection.get`` (its ``$in`` filter, ``limit``/``offset``, and
embeddings as numpy rows), ordered by document as asked, then position."""

from __future__ import annotations

from typing import Any

import numpy as np

from docqa.adapters.chroma import ChromaStore

RECORDS = [  # Chroma's own order (insertion), not the documents' or the positions'
    ("b:1", "b", 1),
    ("a:0", "a", 0),
    ("c:0", "c", 0),
    ("b:0", "b", 0),
    ("a:1", "a", 1),
    ("a:2", "a", 2),
]


class Collection:
    def __init__(self) -> None:
        self.pages: list[tuple[int, int]] = []

    def get(self, *, where: Any, limit: int, offset: int, include: list[str]) -> dict[str, Any]:
        wanted = set(where["document_id"]["$in"])
        found = [r for r in RECORDS if r[1] in wanted][offset : offset + limit]
        self.pages.append((offset, limit))
        return {
            "ids": [r[0] for r in found],
            "documents": [f"text of {r[0]}" for r in found],
            "metadatas": [{"document_id": r[1], "position": r[2], "page": 7} for r in found],
            "embeddings": np.array([[r[2], 0.5] for r in found], dtype=np.float64),
        }


class Client:
    def get_max_batch_size(self) -> int:
        return 2


def test_vectors_are_read_in_pages_and_ordered_by_document_then_position() -> None:
    store = ChromaStore("http://127.0.0.1:1")
    collection = Collection()
    store._connected = Client()  # type: ignore[assignment]
    store._collections["c"] = collection  # type: ignore[assignment]
    found = store.vectors("c", ["b", "a"])
    assert [(chunk_id, chunk.position) for chunk_id, chunk, _ in found] == [
        ("b:0", 0),
        ("b:1", 1),
        ("a:0", 0),
        ("a:1", 1),
        ("a:2", 2),
    ]
    assert collection.pages == [(0, 2), (2, 2), (4, 2)]  # the last page short: the end
    _, chunk, vector = found[1]
    assert (chunk.document_id, chunk.text, chunk.metadata) == ("b", "text of b:1", {"page": 7})
    assert vector == [1.0, 0.5] and all(type(x) is float for x in vector)
    assert store.vectors("c", []) == []
