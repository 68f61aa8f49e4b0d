"""``GET /collections/{c}/export`` and ``POST /collections/{c}/import`` on fakes: scopes, the
refusals (each problem+json, nothing written) and an export imported back as it was."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.core.config import Settings
from docqa.wiring import Services
from support.fakes import FakeEmbedder, fake_services

READER, WRITER = "reader-key-0123456789abcdef", "writer-key-0123456789abcdef"
KEYS = [
    {"key": READER, "name": "reader", "collections": ["*"], "access": "read"},
    {"key": WRITER, "name": "writer", "collections": ["*"], "access": "write"},
]
SPEC = {"model_id": "fake", "dimension": 4, "normalized": True}


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def document(document_id: str, chunks: int = 2, **changes: Any) -> dict[str, Any]:
    return {
        "id": document_id,
        "title": f"Title of {document_id}",
        "source": f"{document_id}.md",
        "metadata": {"team": "docs"},
        "content_hash": "c" * 64,
        "chunks": [
            {
                "position": i,
                "text": f"chunk {i} of {document_id}",
                "metadata": {"source": f"{document_id}.md", "page": i + 1},
                "embedding": unit(1.0, i, 0.5, 0.25),
            }
            for i in range(chunks)
        ],
    } | changes


@pytest.fixture
def services() -> Services:
    settings = Settings(api_keys=json.dumps(KEYS), max_body_bytes=1000)
    return fake_services(settings, embedder=FakeEmbedder(dimension=4))


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(create_app(services=services), raise_server_exceptions=False)


def call(client: TestClient, key: str, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, headers={"Authorization": f"Bearer {key}"}, **kwargs)


def load(client: TestClient, collection: str, *documents: dict[str, Any], spec: Any = SPEC) -> Any:
    body = {"spec": spec, "documents": list(documents)}
    return call(client, WRITER, "POST", f"/collections/{collection}/import", json=body)


def without_id(chunk: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in chunk.items() if key != "id"}


def nothing_in(services: Services, collection: str) -> bool:
    return (
        services.store.collection_spec(collection) is None
        and not (services.catalog.page(collection, 0, 10)[1])
    )


def test_an_export_imported_elsewhere_holds_the_same_chunks_ids_and_vectors(
    client: TestClient, services: Services
) -> None:
    assert load(client, "src", document("a/one"), document("two", chunks=3)).json() == {
        "collection": "src",
        "documents": [{"id": "a/one", "status": "imported"}, {"id": "two", "status": "imported"}],
        "chunks": 5,
    }
    page = call(client, READER, "GET", "/collections/src/export", params={"limit": 1}).json()
    assert (page["total"], page["next_offset"], page["format"], page["skipped"]) == (2, 1, 1, [])
    assert page["spec"] == SPEC | {"max_input_tokens": 64}
    rest = call(client, READER, "GET", "/collections/src/export", params={"offset": 1}).json()
    assert rest["next_offset"] is None
    exported = page["documents"] + rest["documents"]
    first = exported[0]
    assert {k: first[k] for k in ("id", "title", "source", "metadata", "content_hash")} == {
        "id": "a/one",
        "title": "Title of a/one",
        "source": "a/one.md",
        "metadata": {"team": "docs"},
        "content_hash": "c" * 64,
    }
    # As exported but without chunk ids: the import makes them.
    sent = [d | {"chunks": [without_id(c) for c in d["chunks"]]} for d in exported]
    assert load(client, "copy", *sent).status_code == 200
    again = call(client, READER, "GET", "/collections/copy/export").json()["documents"]
    assert again == exported  # ids recomputed to the same, vectors as they were
    assert services.embedder.calls == []  # type: ignore[attr-defined]


def test_export_needs_read_and_import_write(client: TestClient, services: Services) -> None:
    refused = call(
        client, READER, "POST", "/collections/c/import", json={"spec": SPEC, "documents": []}
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert call(client, "wrong-key", "GET", "/collections/c/export").status_code == 401
    missing = call(client, READER, "GET", "/collections/nowhere/export")
    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        "collection 'nowhere' does not exist (or has no documents yet)",
    )


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (SPEC | {"model_id": "gte-large"}, "the vectors are 'gte-large' (4-d, normalised)"),
        (SPEC | {"dimension": 8}, "'fake' (8-d, normalised) but the configured embedder has"),
        (SPEC | {"normalized": False}, "not normalised"),
    ],
)
def test_another_models_vectors_are_a_409_and_nothing_is_written(
    client: TestClient, services: Services, spec: dict[str, Any], says: str
) -> None:
    refused = load(client, "c", document("a"), spec=spec)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert says in refused.json()["detail"]
    assert nothing_in(services, "c")


@pytest.mark.parametrize(
    ("documents", "says"),
    [
        (
            [
                document("a"),
                document("b", chunks=1)
                | {"chunks": [{"position": 1, "text": "t", "embedding": unit(1, 0, 0, 0)}]},
            ],
            "document 'b': chunk positions are [1]",
        ),
        (
            [
                document("a", chunks=1)
                | {"chunks": [{"position": 0, "text": "t", "embedding": [1.0, 0.0]}]}
            ],
            "embedding has 2 numbers, not 4",
        ),
        (
            [
                document("a", chunks=1)
                | {"chunks": [{"position": 0, "text": "t", "embedding": [3.0, 0, 0, 0]}]}
            ],
            "length is 3",
        ),
    ],
)
def test_malformed_rows_are_a_422_naming_the_document_and_nothing_is_written(
    client: TestClient, services: Services, documents: list[dict[str, Any]], says: str
) -> None:
    refused = load(client, "c", *documents)
    assert refused.status_code == 422
    assert says in refused.json()["detail"]
    assert nothing_in(services, "c")


def test_missing_fields_and_non_finite_numbers_are_422(
    client: TestClient, services: Services
) -> None:
    no_embedding = document("a")
    del no_embedding["chunks"][0]["embedding"]
    refused = load(client, "c", no_embedding)
    assert refused.status_code == 422
    assert "documents.0.chunks.0.embedding: Field required" in refused.json()["detail"]
    assert load(client, "c", document("a"), spec={"model_id": "fake"}).status_code == 422
    raw = json.dumps({"spec": SPEC, "documents": [document("a")]}).replace(
        '"embedding": [', '"embedding": [NaN, ', 1
    )
    headers = {"Authorization": f"Bearer {WRITER}", "content-type": "application/json"}
    nan = client.post("/collections/c/import", content=raw, headers=headers)
    assert nan.status_code == 422 and "finite" in nan.json()["detail"]
    assert nothing_in(services, "c")


def test_an_import_body_is_bounded_as_an_upload_not_as_other_bodies(client: TestClient) -> None:
    documents = [document(f"d{i}") for i in range(10)]
    assert len(json.dumps(documents)) > 1000  # max_body_bytes, the limit of every other body
    assert load(client, "c", *documents).status_code == 200
    search = call(client, WRITER, "POST", "/search", json={"question": "x" * 2000})
    assert search.status_code == 413


def test_the_keyword_index_gets_each_chunks_title_and_heading_path_as_indexing_gives_them(
    client: TestClient, services: Services
) -> None:
    titled = document("owls", chunks=1)
    titled["chunks"][0]["metadata"] |= {"title": "Owls", "section": "Barn owls"}
    assert load(client, "c", titled).status_code == 200
    [chunk_id] = services.keywords.chunks["c"]  # type: ignore[attr-defined]
    indexed = services.keywords.indexed["c"][chunk_id]  # type: ignore[attr-defined]
    assert indexed.startswith("Owls") and "Barn owls" in indexed
    assert indexed.endswith("chunk 0 of owls")
