"""The API half of the document path: accepted input → catalog records + one ingest job.

Records and the job are written together (``Catalog.submit``: one Redis transaction), so an
accepted document always has a job that will index it (or report it failed), and a failed
request leaves nothing behind. Identical content under the same id (already indexed or still
queued) is a no-op. Re-indexing a collection into another (``copy_collection``) is the same
path, a page of the catalog at a time.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from docqa.core.errors import InvalidInput, TooLarge
from docqa.core.logs import request_id
from docqa.core.models import DocumentRecord, IngestJob, Metadata, PendingDocument, content_hash
from docqa.core.ports import Catalog
from docqa.ingest import identity

JOB_DOCUMENTS = 500  # documents per re-index job


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
    digest = identity.text_hash(text, title, metadata)
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
    collection: str,
    filename: str,
    kind: str,
    data: bytes,
    *,
    metadata: Metadata,
    document_id: str | None = None,
) -> PendingDocument:
    """An upload; its id is ``document_id`` when given, else ``file_id(filename)``. The hash
    covers the bytes, the file name and the metadata, never the id (``docs/architecture.md``)."""
    digest = identity.file_hash(data, filename, metadata)
    return PendingDocument(
        collection=collection,
        id=document_id if document_id is not None else file_id(filename),
        content_hash=digest,
        kind=kind,
        data=data,
        title=filename,
        metadata=metadata,
        source=filename,
    )


def file_id(filename: str) -> str:
    """A document id from a file name (``identity.from_file_name``: ``a/b.md`` stays
    ``a/b.md``): re-uploading a file of that name replaces it."""
    try:
        return identity.from_file_name(filename)
    except ValueError as exc:
        raise InvalidInput(f"file name {filename!r} gives no usable document id: {exc}") from exc


def copies(source: str, target: str, records: list[DocumentRecord]) -> list[PendingDocument]:
    """Documents that re-index the chunks ``records`` have in ``source`` into ``target``. They
    keep their content hash, so a copy already made is unchanged and not queued again."""
    return [
        PendingDocument(
            collection=target,
            id=record.id,
            content_hash=record.content_hash,
            title=record.title,
            metadata=record.metadata,
            source=record.source,
            copy_from=source,
        )
        for record in records
        if record.status == "indexed"
    ]


def accept(
    documents: list[PendingDocument], catalog: Catalog
) -> tuple[str | None, list[tuple[str, bool]]]:
    """Record and enqueue the documents; returns the job id and (id, changed) for each."""
    repeated = [i for i, n in Counter(d.id for d in documents).items() if n > 1]
    if repeated:
        raise InvalidInput(f"document ids appear more than once in one request: {repeated}")
    previous: dict[str, DocumentRecord] = {}
    for collection in sorted({d.collection for d in documents}):
        previous |= catalog.get_many(
            collection, [d.id for d in documents if d.collection == collection]
        )
    changed = [d for d in documents if not _unchanged(previous.get(d.id), d)]
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
            created_at=(old.created_at if (old := previous.get(d.id)) else 0.0),
        )
        for d in changed
    ]
    # The request's id goes with the job, into the worker's logs.
    catalog.submit(records, IngestJob(id=job_id, documents=changed, request_id=request_id.get()))
    ids = {d.id for d in changed}
    return job_id, [(d.id, d.id in ids) for d in documents]


@dataclass
class Copied:
    """What ``copy_collection`` queued: its jobs, the documents in them (copies already made
    are not), and the documents of the source left out (not indexed there)."""

    jobs: list[str] = field(default_factory=list)
    queued: int = 0
    skipped: int = 0


def copy_collection(source: str, target: str, catalog: Catalog) -> Copied:
    """Queue the re-indexing of every indexed document of ``source`` into ``target``, one job
    per page of ``JOB_DOCUMENTS`` catalog records (a page's copies already made are unchanged)."""
    copied = Copied()
    offset = 0
    while True:
        records, total = catalog.page(source, offset, JOB_DOCUMENTS)
        if not records:
            return copied
        offset += len(records)
        documents = copies(source, target, records)
        copied.skipped += len(records) - len(documents)
        if documents:
            job_id, accepted = accept(documents, catalog)
            copied.queued += sum(changed for _, changed in accepted)
            copied.jobs += [job_id] if job_id else []
        if offset >= total:
            return copied


def _unchanged(record: DocumentRecord | None, document: PendingDocument) -> bool:
    return (
        record is not None
        and record.content_hash == document.content_hash
        and record.status in ("queued", "indexed")
    )
