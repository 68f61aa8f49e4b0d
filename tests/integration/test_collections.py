"""Re-indexing a collection into a new one with the current embedder, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from docqa.adapters.chroma import ChromaStore
from docqa.core.models import EmbeddingSpec
from docqa.stack.local import Stack
from support.api import assert_problem, chunks, ingest, wait_for_job

DOCUMENTS: list[dict[str, Any]] = [
    {"id": "tower", "text": "The Eiffel Tower was finished in 1889.", "metadata": {"k": "a"}},
    {
        "id": "bridge",
        "text": "The Zakim bridge crosses the Charles river.",
        "title": "Boston landmarks",
    },
]


def test_reindex_copies_every_chunk_into_the_new_collection(
    api: httpx.Client, collection: str
) -> None:
    assert ingest(api, collection, *DOCUMENTS)["state"] == "finished"
    target = f"{collection}-v2"
    response = api.post(f"/collections/{collection}/reindex", json={"target": target})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted | {"jobs": None} == {
        "source": collection,
        "target": target,
        "jobs": None,
        "documents": 2,
        "skipped": 0,
    }
    assert [wait_for_job(api, job)["state"] for job in accepted["jobs"]] == ["finished"]

    for document in ("tower", "bridge"):
        record = api.get(f"/documents/{document}", params={"collection": target}).json()
        assert record["status"] == "indexed"
        assert chunks(api, target, document) == chunks(api, collection, document)
    found = api.post("/search", json={"question": "Zakim", "collection": target}).json()
    assert found["hits"][0]["document_id"] == "bridge"
    assert found["hits"][0]["title"] == "Boston landmarks"
    # the copy is indexed after its stored title too: found by it alone, returned without it
    body = {"question": "landmarks", "collection": target, "mode": "keyword"}
    [by_title] = api.post("/search", json=body).json()["hits"]
    assert by_title["document_id"] == "bridge" and "landmarks" not in by_title["text"]

    again = api.post(f"/collections/{collection}/reindex", json={"target": target}).json()
    assert (again["documents"], again["jobs"]) == (0, [])  # already copied: nothing to do
    assert api.get("/documents", params={"collection": collection}).json()["total"] == 2


def test_reindex_refuses_bad_targets(
    api: httpx.Client, collection: str, local_stack: Stack
) -> None:
    assert ingest(api, collection, DOCUMENTS[0])["state"] == "finished"
    path = f"/collections/{collection}/reindex"
    assert_problem(api.post(path, json={"target": collection}), 409, "another collection")
    assert_problem(api.post(path, json={"target": "bad name!"}), 422, "target")
    missing = api.post(f"/collections/{collection}x/reindex", json={"target": "x"})
    assert_problem(missing, 404, "does not exist")

    other = EmbeddingSpec("someone/else-large", 1024, normalized=True, max_input_tokens=510)
    store = ChromaStore(f"http://127.0.0.1:{local_stack.chroma_port}")
    store.ensure_collection(f"{collection}-other", other)
    assert_problem(api.post(path, json={"target": f"{collection}-other"}), 409, "indexed with")
