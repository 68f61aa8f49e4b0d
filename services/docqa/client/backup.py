"""``docqa export`` and ``docqa import``: a collection to a Parquet file and back, over HTTP.

Export reads ``GET /collections/{c}/export`` a page of documents at a time and writes their
chunks in row groups (``collection_file.Writer``) to ``FILE.part``, renamed to ``FILE`` once
complete, so a file by that name is always whole. Import checks the file whole before sending
anything (its metadata and columns, then every document by ``import_checks.check_document``, the
rule the server applies), asks the server whether the file's vectors suit the collection (a
request with no documents), skips what ``GET /documents`` lists indexed with the same content
hash (so a run stopped half-way resumes), and posts the rest in batches of at most
``batch_bytes`` and ``batch_documents``; a batch refused as too large (413) is split in halves
until a document stands alone. 429 and 503 are retried by ``transport.Api``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tqdm import tqdm

from docqa.client.collection_file import Reader, Writer, file_metadata
from docqa.client.sources import Failure
from docqa.client.transport import Api, checked, in_flight, reason
from docqa.core.errors import InvalidInput
from docqa.ingest.import_checks import ImportedDocument, VectorsSpec, check_document

EXPORT_PAGE = 100  # documents per export request
BATCH_BYTES = 8 * 1024 * 1024  # an import request's share of DOCQA_MAX_REQUEST_BYTES (100 MiB)
BATCH_DOCUMENTS = 100
CONCURRENCY = 2  # import requests in flight


@dataclass
class Exported:
    path: Path
    documents: int = 0
    chunks: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"wrote {self.path}: {self.documents} documents, {self.chunks} chunks",
            f"documents skipped (not indexed now): {len(self.skipped)}",
            f"time: {self.seconds:.1f} s",
        ]
        return out + [f"  skipped {i}" for i in self.skipped[:50]]


@dataclass
class Imported:
    read: int = 0  # documents in the file
    sent: int = 0
    imported: int = 0
    unchanged: int = 0
    chunks: int = 0  # chunks written by the server
    failed: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"documents read: {self.read}",
            f"documents sent: {self.sent}, imported: {self.imported}, "
            f"unchanged: {self.unchanged}, failed: {len(self.failed)}",
            f"chunks written: {self.chunks}",
            f"time: {self.seconds:.1f} s",
        ]
        return out + [f"  failed {f.where}: {f.reason}" for f in self.failed]


def client(base_url: str, api_key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=300)


def export(
    api: Api, collection: str, out: Path, *, page: int = EXPORT_PAGE, progress: bool = True
) -> Exported:
    """Write ``collection`` to ``out``; RuntimeError with the server's reason when refused."""
    started = time.monotonic()
    done = Exported(out)
    partial = out.with_name(out.name + ".part")
    writer: Writer | None = None
    bar = tqdm(desc="documents exported", unit=" docs", disable=not progress, dynamic_ncols=True)
    try:
        offset: int | None = 0
        while offset is not None:
            params = {"offset": offset, "limit": page}
            path = f"/collections/{collection}/export"
            body = checked(api.request("GET", path, params=params)).json()
            if writer is None:
                writer = Writer(partial, file_metadata(body["spec"], collection))
                bar.total = body["total"]
            for document in body["documents"]:
                writer.add(document)
                done.documents += 1
                done.chunks += len(document["chunks"])
            done.skipped += body["skipped"]
            bar.update(len(body["documents"]) + len(body["skipped"]))
            offset = body["next_offset"]
        assert writer is not None
        writer.close()
        writer = None
        partial.replace(out)
    finally:
        bar.close()
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    done.seconds = time.monotonic() - started
    return done


def import_file(
    api: Api,
    path: Path,
    collection: str,
    *,
    batch_bytes: int = BATCH_BYTES,
    batch_documents: int = BATCH_DOCUMENTS,
    concurrency: int = CONCURRENCY,
    progress: bool = True,
) -> Imported:
    """Send ``path``'s documents to ``collection``, ``concurrency`` requests in flight (the
    next batch is read and encoded while the server writes one). ValueError for a malformed
    file and RuntimeError for a refused spec, both before anything is written."""
    started = time.monotonic()
    reader = Reader(path)
    spec = _spec_json(reader.spec)
    refused = api.request("POST", _import_path(collection), json={"spec": spec, "documents": []})
    if refused.status_code != 200:
        raise RuntimeError(f"{collection!r} refuses the file's vectors: {reason(refused)}")
    for document in reader.documents():  # the whole file checked before anything is sent
        try:
            check_document(document, reader.spec)
        except InvalidInput as exc:  # its detail names the document and chunk
            raise ValueError(f"{path}: {exc.detail}") from exc
    stored = {i: (h, s) for i, h, s in api.stored(collection)}
    done = Imported()
    lock = threading.Lock()
    bar = tqdm(
        total=reader.rows, desc="chunks", unit=" chunks", disable=not progress, dynamic_ncols=True
    )

    def to_send() -> Iterator[tuple[str, int, str]]:
        for document in reader.documents():
            done.read += 1
            if stored.get(document.id) == (document.content_hash, "indexed"):
                with lock:
                    done.unchanged += 1
                    bar.update(len(document.chunks))
                continue
            yield document.id, len(document.chunks), json.dumps(_document_json(document))

    def send(batch: list[Encoded]) -> None:
        _post(api, collection, spec, batch, done, lock)
        with lock:
            bar.update(sum(chunks for _, chunks, _ in batch))

    in_flight(_batches(to_send(), batch_bytes, batch_documents), send, max(1, concurrency))
    bar.close()
    done.seconds = time.monotonic() - started
    return done


Encoded = tuple[str, int, str]  # document id, its chunks, its JSON


def _batches(
    documents: Iterator[Encoded], max_bytes: int, max_documents: int
) -> Iterator[list[Encoded]]:
    batch: list[Encoded] = []
    size = 0
    for document in documents:
        if batch and (len(batch) >= max_documents or size + len(document[2]) > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(document)
        size += len(document[2])
    if batch:
        yield batch


def _post(
    api: Api,
    collection: str,
    spec: dict[str, object],
    batch: list[Encoded],
    done: Imported,
    lock: threading.Lock,
) -> None:
    documents = ", ".join(encoded for _, _, encoded in batch)
    body = f'{{"spec": {json.dumps(spec)}, "documents": [{documents}]}}'
    response = api.request(
        "POST",
        _import_path(collection),
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    if response.status_code == 413 and len(batch) > 1:
        half = len(batch) // 2
        _post(api, collection, spec, batch[:half], done, lock)
        _post(api, collection, spec, batch[half:], done, lock)
        return
    with lock:
        done.sent += len(batch)
        if response.status_code != 200:
            done.failed += [Failure(document_id, reason(response)) for document_id, _, _ in batch]
            return
        answer = response.json()
        done.chunks += answer["chunks"]
        for item in answer["documents"]:
            if item["status"] == "imported":
                done.imported += 1
            else:
                done.unchanged += 1


def _import_path(collection: str) -> str:
    return f"/collections/{collection}/import"


def _spec_json(spec: VectorsSpec) -> dict[str, object]:
    return {"model_id": spec.model_id, "dimension": spec.dimension, "normalized": spec.normalized}


def _document_json(document: ImportedDocument) -> dict[str, object]:
    return {
        "id": document.id,
        "title": document.title,
        "source": document.source,
        "metadata": document.metadata,
        "content_hash": document.content_hash,
        "chunks": [
            {
                "position": c.position,
                "text": c.text,
                "metadata": c.metadata,
                "embedding": c.embedding,
            }
            for c in document.chunks
        ],
    }
