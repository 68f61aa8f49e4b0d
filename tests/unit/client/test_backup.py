"""``docqa export`` / ``docqa import`` (``bulk.transfer``, ``bulk.collection_file``) against the
API on fakes (``TestClient`` is an ``httpx.Client``): the file's layout, a round trip, resume,
and the refusals made before anything is sent or written."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from docqa.api.app import create_app
from docqa.client import backup, collection_file
from docqa.client.transport import Api
from docqa.wiring import Services
from support.fakes import FakeEmbedder, fake_services

SPEC = {"model_id": "fake", "dimension": 4, "normalized": True}


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def document(document_id: str, chunks: int) -> dict[str, Any]:
    return {
        "id": document_id,
        "title": None if chunks == 1 else f"Title of {document_id}",
        "source": f"{document_id}.md",
        "metadata": {"team": "docs"},
        "content_hash": f"{len(document_id):x}" * 64,
        "chunks": [
            {
                "position": i,
                "text": f"chunk {i} of {document_id}",
                "metadata": {"page": i + 1},
                "embedding": unit(0.1, i, 0.3, 1.0),
            }
            for i in range(chunks)
        ],
    }


class Counting(TestClient):
    """Counts the import requests that carry documents."""

    sent: int = 0
    statuses: list[int]

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        if method == "POST" and str(url).endswith("/import") and kwargs.get("content"):
            self.sent += 1
            self.statuses = [*getattr(self, "statuses", []), response.status_code]
        return response


@pytest.fixture
def services() -> Services:
    return fake_services(embedder=FakeEmbedder(dimension=4))


@pytest.fixture
def http(services: Services) -> Counting:
    client = Counting(create_app(services=services), raise_server_exceptions=False)
    body = {"spec": SPEC, "documents": [document(f"d/{i}", 1 + i % 3) for i in range(7)]}
    assert client.post("/collections/src/import", json=body).status_code == 200
    return client


def export(http: TestClient, path: Path, collection: str = "src") -> backup.Exported:
    return backup.export(Api(cast(httpx.Client, http)), collection, path, page=3, progress=False)


def load(http: TestClient, path: Path, collection: str, **options: Any) -> backup.Imported:
    api = Api(cast(httpx.Client, http))  # a TestClient is one, though not to mypy
    return backup.import_file(api, path, collection, progress=False, **options)


def test_the_file_has_a_row_per_chunk_its_documents_fields_and_the_spec(
    http: Counting, tmp_path: Path
) -> None:
    done = export(http, tmp_path / "c.parquet")
    assert (done.documents, done.chunks, done.skipped) == (7, 13, [])
    assert not (tmp_path / "c.parquet.part").exists()
    table = pq.read_table(tmp_path / "c.parquet")
    assert table.schema == collection_file.SCHEMA.with_metadata(table.schema.metadata)
    meta = table.schema.metadata
    assert {k: meta[k] for k in (b"docqa.format", b"docqa.model_id", b"docqa.dimension")} == {
        b"docqa.format": b"1",
        b"docqa.model_id": b"fake",
        b"docqa.dimension": b"4",
    }
    assert meta[b"docqa.normalized"] == b"true"
    rows = table.to_pylist()
    assert [(r["document_id"], r["position"]) for r in rows[:3]] == [
        ("d/0", 0),
        ("d/1", 0),
        ("d/1", 1),
    ]
    second = rows[2]
    assert (second["title"], second["source"], json.loads(second["document_metadata"])) == (
        "Title of d/1",
        "d/1.md",
        {"team": "docs"},
    )
    assert json.loads(second["metadata"]) == {"page": 2}
    assert second["embedding"] == pytest.approx(unit(0.1, 1, 0.3, 1.0), rel=1e-6)


def test_exported_then_imported_elsewhere_the_same_then_a_second_run_sends_nothing(
    http: Counting, services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "c.parquet"
    export(http, path)
    done = load(http, path, "copy", batch_documents=2)
    assert (done.read, done.sent, done.imported, done.chunks, done.failed) == (7, 7, 7, 13, [])
    assert http.sent == 4  # batches of 2 documents
    source = services.store.vectors("src", [f"d/{i}" for i in range(7)])
    copied = services.store.vectors("copy", [f"d/{i}" for i in range(7)])
    as_float32 = [(i, c, np.asarray(v, dtype=np.float32).tolist()) for i, c, v in source]
    assert copied == as_float32  # ids, chunks and vectors (float32 in the file)
    record, original = services.catalog.get("copy", "d/1"), services.catalog.get("src", "d/1")
    assert record is not None and original is not None
    fields = ("title", "source", "metadata", "content_hash", "status", "chunks")
    assert [getattr(record, f) for f in fields] == [getattr(original, f) for f in fields]
    again = load(http, path, "copy")
    assert (again.read, again.sent, again.unchanged) == (7, 0, 7)
    assert http.sent == 4


def test_a_batch_too_large_is_split(http: Counting, services: Services, tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    export(http, path)
    services.settings.max_request_bytes = 3000  # two or so documents a request
    done = load(http, path, "copy")
    assert (done.imported, done.failed) == (7, [])
    assert http.statuses[0] == 413 and set(http.statuses[1:]) == {200}


def rewrite(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def test_a_file_of_another_model_is_refused_with_nothing_written(
    http: Counting, services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "c.parquet"
    export(http, path)
    table = pq.read_table(path)
    meta = dict(table.schema.metadata) | {b"docqa.model_id": b"gte-large"}
    rewrite(path, table.replace_schema_metadata(meta))
    with pytest.raises(RuntimeError, match="'copy' refuses the file's vectors: 409: the vectors"):
        load(http, path, "copy")
    assert services.store.collection_spec("copy") is None
    assert services.catalog.page("copy", 0, 10) == ([], 0)


def test_missing_columns_metadata_and_malformed_rows_are_refused_before_sending(
    http: Counting, tmp_path: Path
) -> None:
    path = tmp_path / "c.parquet"
    export(http, path)
    table = pq.read_table(path)
    cases = {
        "no embedding column": (table.drop_columns(["embedding"]), "missing columns"),
        "no spec": (table.replace_schema_metadata({}), "lacks \\['docqa.format'"),
        "a short vector": (_short_vector(table), "document 'd/3', chunk 0: embedding has 3"),
        "a document in two runs": (_split_document(table), "'d/1': its rows are not consecutive"),
    }
    for name, (broken, says) in cases.items():
        with pytest.raises(ValueError, match=says):
            load(http, rewrite(tmp_path / f"{name}.parquet", broken), "copy")
    assert http.sent == 0


def test_an_export_of_a_collection_that_does_not_exist_writes_no_file(
    http: Counting, tmp_path: Path
) -> None:
    with pytest.raises(RuntimeError, match="404: collection 'nope' does not exist"):
        export(http, tmp_path / "x.parquet", collection="nope")
    assert list(tmp_path.iterdir()) == []


def test_a_file_made_elsewhere_needs_only_the_required_columns(
    http: Counting, services: Services, tmp_path: Path
) -> None:
    table = pa.table(
        {
            "document_id": ["w/1", "w/1", "w/2"],
            "position": pa.array([0, 1, 0], pa.int32()),
            "text": ["Paris is in France.", "It is the capital.", "Rome is in Italy."],
            "embedding": pa.array([unit(1, 0, 0, 0), unit(1, 1, 0, 0), unit(0, 0, 1, 0)]),
        }
    ).replace_schema_metadata(
        {b"docqa.format": b"1", b"docqa.model_id": b"fake", b"docqa.dimension": b"4"}
        | {b"docqa.normalized": b"true"}
    )
    path = rewrite(tmp_path / "w.parquet", table)
    assert load(http, path, "web").imported == 2
    record = services.catalog.get("web", "w/1")
    assert record is not None and (record.source, record.chunks) == ("import", 2)
    assert len(record.content_hash) == 64
    assert load(http, path, "web").sent == 0  # its hash, computed the same way, is stored


def _short_vector(table: pa.Table) -> pa.Table:
    rows = table.to_pylist()
    target = next(i for i, r in enumerate(rows) if r["document_id"] == "d/3")
    rows[target]["embedding"] = rows[target]["embedding"][:3]
    return pa.Table.from_pylist(rows, schema=table.schema)


def _split_document(table: pa.Table) -> pa.Table:
    rows = table.to_pylist()
    return pa.Table.from_pylist(rows[1:] + rows[:2], schema=table.schema)
