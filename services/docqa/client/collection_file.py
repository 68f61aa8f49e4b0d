"""A collection as a Parquet file (pyarrow): one row per chunk, its document's fields repeated.

Columns (format version 1):

- ``document_id`` (string), ``position`` (int32), ``text`` (string), ``embedding``
  (list<float32>): required; a document's rows are consecutive, positions 0..n-1 in order.
- ``chunk_id`` (string): written on export, ignored on import (ids are recomputed).
- ``metadata`` (string, a JSON object): the chunk's metadata; ``{}`` when absent.
- ``title`` (string, null allowed), ``source`` (string; "import" when absent),
  ``document_metadata`` (string, a JSON object) and ``content_hash`` (string, hex sha256):
  the document's catalog fields, the same on each of its rows. Without ``content_hash`` a
  document's hash is ``vectors_hash`` of its rows (so a file made elsewhere still resumes).

The file's key-value metadata holds ``docqa.format`` ("1"), ``docqa.model_id``,
``docqa.dimension``, ``docqa.normalized`` ("true"/"false"), all required on import, and
``docqa.max_input_tokens`` and ``docqa.collection`` (informational). Rows are written in row
groups of ``ROW_GROUP_ROWS`` and read in batches, so memory holds one group, not the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from docqa.ingest.import_checks import ImportedChunk, ImportedDocument, VectorsSpec
from docqa.ingest.vector_transfer import FORMAT_VERSION

ROW_GROUP_ROWS = 2048
READ_BATCH_ROWS = 1024
REQUIRED = ("document_id", "position", "text", "embedding")
SCHEMA = pa.schema(
    [
        ("chunk_id", pa.string()),
        ("document_id", pa.string()),
        ("position", pa.int32()),
        ("text", pa.string()),
        ("metadata", pa.string()),
        ("embedding", pa.list_(pa.float32())),
        ("title", pa.string()),
        ("source", pa.string()),
        ("document_metadata", pa.string()),
        ("content_hash", pa.string()),
    ]
)


def file_metadata(spec: dict[str, Any], collection: str) -> dict[bytes, bytes]:
    """The key-value metadata for an export page's ``spec`` (as the API answers it)."""
    return {
        b"docqa.format": str(FORMAT_VERSION).encode(),
        b"docqa.model_id": str(spec["model_id"]).encode(),
        b"docqa.dimension": str(int(spec["dimension"])).encode(),
        b"docqa.normalized": b"true" if spec["normalized"] else b"false",
        b"docqa.max_input_tokens": str(spec.get("max_input_tokens", "")).encode(),
        b"docqa.collection": collection.encode(),
    }


class Writer:
    """Rows of export pages into a Parquet file, a row group at a time."""

    def __init__(self, path: Path, metadata: dict[bytes, bytes]) -> None:
        self._writer = pq.ParquetWriter(path, SCHEMA.with_metadata(metadata))
        self._rows: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
        self.rows = 0

    def add(self, document: dict[str, Any]) -> None:
        """One exported document (as the API's ``DocumentExport``): a row per chunk."""
        for chunk in document["chunks"]:
            row = {
                "chunk_id": chunk["id"],
                "document_id": document["id"],
                "position": chunk["position"],
                "text": chunk["text"],
                "metadata": json.dumps(chunk["metadata"], sort_keys=True),
                "embedding": chunk["embedding"],
                "title": document["title"],
                "source": document["source"],
                "document_metadata": json.dumps(document["metadata"], sort_keys=True),
                "content_hash": document["content_hash"],
            }
            for name, value in row.items():
                self._rows[name].append(value)
        if len(self._rows["document_id"]) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        count = len(self._rows["document_id"])
        if count:
            self._writer.write_table(pa.table(self._rows, schema=SCHEMA))
            self.rows += count
            self._rows = {name: [] for name in SCHEMA.names}

    def close(self) -> None:
        self._flush()
        self._writer.close()


class Reader:
    """A collection file's spec and its documents, checked as far as the file alone can be
    (ValueError saying what is wrong): the metadata, the columns, rows grouped by document."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"{path}: not a readable Parquet file: {exc}") from exc
        self.path = path
        self.spec = spec_of(self._file.schema_arrow.metadata or {}, path)
        names = set(self._file.schema_arrow.names)
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise ValueError(f"{path}: missing columns {missing} (required: {list(REQUIRED)})")
        self.columns = [name for name in SCHEMA.names if name in names and name != "chunk_id"]
        self.rows = self._file.metadata.num_rows

    def documents(self) -> Iterator[ImportedDocument]:
        """Each document with its chunks, in file order; ValueError when a document's rows
        are not consecutive (the second run would silently replace the first)."""
        seen: set[str] = set()
        rows: list[dict[str, Any]] = []
        for batch in self._file.iter_batches(batch_size=READ_BATCH_ROWS, columns=self.columns):
            for row in batch.to_pylist():
                if rows and row["document_id"] != rows[0]["document_id"]:
                    yield self._document(rows, seen)
                    rows = []
                rows.append(row)
        if rows:
            yield self._document(rows, seen)

    def _document(self, rows: list[dict[str, Any]], seen: set[str]) -> ImportedDocument:
        first = rows[0]
        document_id = first["document_id"]
        where = f"{self.path}: document {str(document_id)[:80]!r}"
        if not isinstance(document_id, str):
            raise ValueError(f"{self.path}: a row has no document_id")
        if document_id in seen:
            raise ValueError(f"{where}: its rows are not consecutive; sort the file by document")
        seen.add(document_id)
        chunks = [
            ImportedChunk(
                position=_number(row["position"], where),
                text=row["text"] if isinstance(row["text"], str) else "",
                metadata=_json(row.get("metadata"), where, "metadata"),
                embedding=list(row["embedding"] or []),
            )
            for row in rows
        ]
        if any(row["text"] is None for row in rows):
            raise ValueError(f"{where}: a chunk has no text (null)")
        title, source = first.get("title"), first.get("source") or "import"
        metadata = _json(first.get("document_metadata"), where, "document_metadata")
        return ImportedDocument(
            id=document_id,
            content_hash=first.get("content_hash") or vectors_hash(chunks, title, metadata),
            chunks=chunks,
            title=title,
            source=source,
            metadata=metadata,
        )


def spec_of(metadata: dict[bytes, bytes], path: Path) -> VectorsSpec:
    """The vectors' spec in a file's key-value metadata; ValueError when absent or unreadable."""
    found = {
        key.decode(errors="replace"): value.decode(errors="replace")
        for key, value in metadata.items()
    }
    wanted = ["docqa.format", "docqa.model_id", "docqa.dimension", "docqa.normalized"]
    missing = [key for key in wanted if key not in found]
    if missing:
        raise ValueError(f"{path}: the file's metadata lacks {missing} (not a docqa export?)")
    if found["docqa.format"] != str(FORMAT_VERSION):
        raise ValueError(
            f"{path}: format {found['docqa.format']!r}; this docqa reads {FORMAT_VERSION}"
        )
    if not found["docqa.dimension"].isdigit() or found["docqa.normalized"] not in ("true", "false"):
        raise ValueError(
            f"{path}: docqa.dimension must be a whole number and docqa.normalized true or false"
        )
    return VectorsSpec(
        model_id=found["docqa.model_id"],
        dimension=int(found["docqa.dimension"]),
        normalized=found["docqa.normalized"] == "true",
    )


def vectors_hash(chunks: list[ImportedChunk], title: str | None, metadata: dict[str, Any]) -> str:
    """A document's content hash when the file has none: hex sha256 of ``json.dumps([title,
    metadata, [[position, text, metadata, embedding] per chunk]], sort_keys=True)``."""
    rows = [[c.position, c.text, c.metadata, c.embedding] for c in chunks]
    return hashlib.sha256(json.dumps([title, metadata, rows], sort_keys=True).encode()).hexdigest()


def _json(raw: object, where: str, column: str) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: {column} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{where}: {column} is not a JSON object")
    return value


def _number(raw: object, where: str) -> int:
    if not isinstance(raw, int):
        raise ValueError(f"{where}: a chunk has no position")
    return raw
