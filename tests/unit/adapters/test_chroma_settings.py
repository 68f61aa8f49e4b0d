"""What ``ChromaStore`` creates collections with and how it splits writes: the HNSW settings of
``chroma_hnsw`` (the shipped ones by default, always cosine) and requests of at most
``chroma_upsert_batch`` rows, never more than the server's max batch. On a recording stand-in
for chromadb's client; ``tests/integration/test_chroma_hnsw.py`` checks a real server keeps
them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from docqa import wiring
from docqa.adapters._chroma import spec_metadata
from docqa.adapters.chroma import ChromaStore
from docqa.core.config import SHIPPED, Settings
from docqa.core.models import Chunk, EmbeddingSpec

SPEC = EmbeddingSpec("test/model", 4, normalized=True, max_input_tokens=64)


class Collection:
    def __init__(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata
        self.requests: list[int] = []

    def upsert(self, ids: list[str], **_: Any) -> None:
        self.requests.append(len(ids))


class Client:
    def __init__(self, max_batch: int = 5461) -> None:
        self.max_batch = max_batch
        self.created: list[dict[str, Any]] = []

    def get_collection(self, name: str, **_: Any) -> Collection:
        raise ValueError(f"Collection [{name}] does not exist")

    def get_or_create_collection(self, name: str, **kwargs: Any) -> Collection:
        self.created.append({"name": name, **kwargs})
        return Collection(kwargs["metadata"])

    def get_max_batch_size(self) -> int:
        return self.max_batch


def store_on(client: Client, **kwargs: Any) -> ChromaStore:
    store = ChromaStore("http://127.0.0.1:1", **kwargs)
    store._connected = client  # type: ignore[assignment]
    return store


def test_a_new_collection_gets_the_shipped_hnsw_settings_and_cosine() -> None:
    client = Client()
    store_on(client).ensure_collection("c", SPEC)
    [created] = client.created
    assert created["name"] == "docqa-c"
    assert created["configuration"] == {"hnsw": {**SHIPPED["chroma_hnsw"], "space": "cosine"}}
    assert created["metadata"] == spec_metadata(SPEC)


def test_configured_hnsw_settings_are_passed_and_the_space_stays_cosine() -> None:
    client = Client()
    hnsw = {"max_neighbors": 8, "ef_construction": 50, "space": "l2"}
    store_on(client, hnsw=hnsw).ensure_collection("c", SPEC)
    assert client.created[0]["configuration"]["hnsw"] == {
        "max_neighbors": 8,
        "ef_construction": 50,
        "space": "cosine",
    }


@pytest.mark.parametrize(
    ("upsert_batch", "max_batch", "requests"),
    [(250, 5461, [250, 250, 250, 250, 1]), (5000, 300, [300, 300, 300, 101]), (2000, 5461, [1001])],
)
def test_upserts_are_split_by_the_setting_and_the_servers_max(
    upsert_batch: int, max_batch: int, requests: list[int]
) -> None:
    client = Client(max_batch)
    store = store_on(client, upsert_batch=upsert_batch)
    store.ensure_collection("c", SPEC)
    chunks = [Chunk("d", n, f"text {n}") for n in range(1001)]
    store.upsert("c", chunks, [[1.0, 0.0, 0.0, 0.0]] * len(chunks))
    assert store._collections["c"].requests == requests  # type: ignore[attr-defined]


def test_the_store_defaults_to_the_shipped_upsert_batch() -> None:
    client = Client(max_batch=10**6)
    store = store_on(client)
    store.ensure_collection("c", SPEC)
    count = 2 * SHIPPED["chroma_upsert_batch"] + 1
    store.upsert("c", [Chunk("d", n, "t") for n in range(count)], [[1.0, 0, 0, 0]] * count)
    batch = SHIPPED["chroma_upsert_batch"]
    assert store._collections["c"].requests == [batch, batch, 1]  # type: ignore[attr-defined]


def test_wiring_passes_the_settings_to_the_store() -> None:
    settings = Settings(chroma_hnsw={"sync_threshold": 7}, chroma_upsert_batch=9)
    store = wiring.chroma_store(settings)
    assert (store._hnsw, store._upsert_batch) == ({"sync_threshold": 7}, 9)


def test_settings_read_hnsw_from_json_and_refuse_unknown_or_non_positive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCQA_CHROMA_HNSW", '{"max_neighbors": 32, "ef_construction": 200}')
    assert Settings().chroma_hnsw == {"max_neighbors": 32, "ef_construction": 200}
    with pytest.raises(ValidationError, match="unknown HNSW settings"):
        Settings(chroma_hnsw={"hnsw:M": 16})
    with pytest.raises(ValidationError, match="positive"):
        Settings(chroma_hnsw={"sync_threshold": 0})
    with pytest.raises(ValidationError):
        Settings(chroma_upsert_batch=0)
