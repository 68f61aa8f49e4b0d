"""Puts right each difference ``docqa check`` finds, from the catalog (the source of truth).

- ``orphan_vectors`` / ``orphan_keywords``: the chunks are deleted from that store (the catalog
  has no such document: it was deleted, or its record was lost).
- ``superseded_vectors`` / ``superseded_keywords``: the chunks that are not the current
  version's are deleted from that store.
- ``missing_keywords``: the vector store holds every chunk of the current version, so the
  document is re-queued as a copy of itself (``PendingDocument.copy_from``): the worker writes
  the keyword index again from the stored chunks, embedding nothing.
- ``job_missing`` / ``pending_without_job``: the document is re-queued in a new job when its
  content is still kept with its old job (a queued or failed job keeps its documents); else it
  is marked failed, with the reason.
- ``missing_vectors`` / ``count_mismatch``: the current version's text is no longer stored
  whole, so the document is marked failed with a reason that says to post it again; its
  remaining chunks stay searchable until then.

Each repair holds the document's lock (never while a job indexes or deletes it) and first reads
its record again: a record that changed since the check saw it is left alone (``skipped``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from docqa.core.models import DocumentRecord, IngestJob, PendingDocument
from docqa.ingest.consistency import Stores
from docqa.ingest.differences import Difference


@dataclass(frozen=True)
class Repaired:
    action: str  # what was done, for the report
    deleted: int = 0  # chunks deleted
    done: bool = True  # False: skipped, the record changed since


def repair(stores: Stores, difference: Difference) -> Repaired:
    d = difference
    with stores.catalog.lock(d.collection, d.document_id):
        record = stores.catalog.get(d.collection, d.document_id)
        if d.kind in ("orphan_vectors", "orphan_keywords"):
            if record is not None:
                return Repaired("skipped: the document was posted since", done=False)
            return _delete(stores, d)
        if record is None or record.content_hash != d.content_hash:
            return Repaired("skipped: the document changed since", done=False)
        if d.kind in ("superseded_vectors", "superseded_keywords"):
            return _delete(stores, d)
        if d.kind == "missing_keywords":
            copy = PendingDocument(
                collection=d.collection,
                id=d.document_id,
                content_hash=record.content_hash,
                title=record.title,
                source=record.source,
                copy_from=d.collection,
            )
            return _requeue(stores, record, copy, "re-queued to index its stored chunks again")
        if d.kind in ("job_missing", "pending_without_job"):
            if record.status != "queued" or record.job_id != d.job_id:
                return Repaired("skipped: the document changed since", done=False)
            kept = stores.queue.documents(d.job_id) if d.job_id else None
            same = [p for p in kept or [] if p.id == d.document_id]
            if same and same[0].content_hash == record.content_hash:
                return _requeue(stores, record, same[0], "re-queued from its job's stored content")
            return _fail(
                stores,
                record,
                f"it was never indexed: {d.detail}, and its content "
                "is no longer kept; post the document again",
            )
        return _fail(
            stores,
            record,
            f"its chunks are no longer all stored ({d.kind.replace('_', ' ')}: {d.detail}); "
            "post the document again",
        )


def _delete(stores: Stores, d: Difference) -> Repaired:
    ids = list(d.chunk_ids)
    if d.kind.endswith("_vectors"):
        stores.store.delete(d.collection, ids)
        return Repaired(f"deleted {len(ids)} chunks from the vector store", len(ids))
    stores.keywords.delete(d.collection, ids)
    return Repaired(f"deleted {len(ids)} chunks from the keyword index", len(ids))


def _requeue(
    stores: Stores, record: DocumentRecord, document: PendingDocument, action: str
) -> Repaired:
    job_id = uuid.uuid4().hex
    queued = replace(record, status="queued", job_id=job_id, error=None)
    stores.catalog.submit([queued], IngestJob(id=job_id, documents=[document]))
    return Repaired(f"{action} (job {job_id})")


def _fail(stores: Stores, record: DocumentRecord, reason: str) -> Repaired:
    stores.catalog.update(
        record.collection, record.id, record.content_hash, status="failed", error=reason
    )
    return Repaired(f"marked failed: {reason}")
