"""The API half of the document path: accepted input → catalog records + one ingest job.

Records and the job are written in one Redis transaction, so an accepted document always has
a job that will index it (or report it failed), and a failed request leaves nothing behind.
Identical content under the same id (already indexed or still queued) is a no-op.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter

from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.queue import IngestQueue
from docqa.errors import InvalidInput, TooLarge
from docqa.models import DocumentRecord, Metadata, PendingDocument, content_hash
from docqa.observability import request_id


def text_document(
    collection: str,
    text: str,
    *,
    document_id: str | None,
    title: str | None,
    metadata: Metadata,
    max_bytes: int,
) -> PendingDocument:
    size = len(text.encode())
    if size > max_bytes:
        raise TooLarge(
            f"document {document_id or title or ''!r} is {size} bytes; the limit is {max_bytes}"
        )
    digest = content_hash(json.dumps([text, title, metadata], sort_keys=True))
    return PendingDocument(
        collection=collection,
        id=document_id or f"doc-{content_hash(text)[:24]}",
        content_hash=digest,
        kind="text",
        data=text,
        title=title,
        metadata=metadata,
    )


def file_document(
    collection: str, filename: str, kind: str, data: bytes, *, metadata: Metadata
) -> PendingDocument:
    digest = content_hash(data + json.dumps([filename, metadata], sort_keys=True).encode())
    return PendingDocument(
        collection=collection,
        id=file_id(filename),
        content_hash=digest,
        kind=kind,
        data=data,
        title=filename,
        metadata=metadata,
        source=filename,
    )


def file_id(filename: str) -> str:
    """A document id from a file name: re-uploading a file of that name replaces it."""
    slug = re.sub(r"[^A-Za-z0-9._:-]+", "-", filename).strip("-._:")
    if not slug:
        raise InvalidInput(f"file name {filename!r} gives no usable document id")
    return slug[:128]


def copies(source: str, target: str, records: list[DocumentRecord]) -> list[PendingDocument]:
    """Documents that re-index the chunks ``records`` have in ``source`` into ``target``. They
    keep their content hash, so a copy already made is unchanged and not queued again."""
    return [
        PendingDocument(
            collection=target,
            id=record.id,
            content_hash=record.content_hash,
            kind="copy",
            data=source,
            title=record.title,
            metadata=record.metadata,
            source=record.source,
        )
        for record in records
        if record.status == "indexed"
    ]


def accept(
    documents: list[PendingDocument], catalog: RedisCatalog, queue: IngestQueue
) -> tuple[str | None, list[tuple[str, bool]]]:
    """Record and enqueue the documents; returns the job id and (id, changed) for each."""
    repeated = [i for i, n in Counter(d.id for d in documents).items() if n > 1]
    if repeated:
        raise InvalidInput(f"document ids appear more than once in one request: {repeated}")
    previous = {d.id: catalog.get(d.collection, d.id) for d in documents}
    changed = [d for d in documents if not _unchanged(previous[d.id], d)]
    if not changed:
        return None, [(d.id, False) for d in documents]
    job_id = uuid.uuid4().hex
    records = [
        DocumentRecord(
            id=d.id,
            collection=d.collection,
            title=d.title,
            metadata=d.metadata,
            source=d.source,
            content_hash=d.content_hash,
            status="queued",
            job_id=job_id,
            created_at=(old.created_at if (old := previous[d.id]) else 0.0),
        )
        for d in changed
    ]
    with catalog.transaction() as pipe:
        # RQ may WATCH first; the request's id goes with the job, into the worker's logs.
        queue.enqueue(changed, job_id=job_id, pipeline=pipe, request_id=request_id.get())
        catalog.put(records, pipeline=pipe)
        pipe.execute()
    ids = {d.id for d in changed}
    return job_id, [(d.id, d.id in ids) for d in documents]


def _unchanged(record: DocumentRecord | None, document: PendingDocument) -> bool:
    return (
        record is not None
        and record.content_hash == document.content_hash
        and record.status in ("queued", "indexed")
    )
