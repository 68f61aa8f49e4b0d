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
- ``failed_stores_disagree``: a failed document's chunks are made the same in both stores by
  deleting, from both, the chunks one store holds and the other does not (the chunks both hold
  stay searchable, as its earlier version), or all of them when those are not one version; a
  document left with no chunks says so in its reason: post it again to index it (a deletion cut
  off keeps its own reason, to delete it again). Nothing is written back: neither store can say
  which of its chunks the other lost, and the catalog (failed) acknowledges no chunk.
- ``missing_vectors`` / ``count_mismatch``: the current version's text is no longer stored
  whole, so the document is marked failed with a reason that says to post it again.

Every repair that marks a document failed then makes its chunks agree as for
``failed_stores_disagree`` (one version in both stores, else none), so it leaves no difference.

Each repair holds the document's lock (never while a job indexes or deletes it) and first reads
its record again: a record that changed since the check saw it is left alone (``skipped``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from docqa.core.models import DocumentRecord, IngestJob, PendingDocument
from docqa.ingest.consistency import Stores
from docqa.ingest.differences import Difference, compare_failed
from docqa.ingest.indexing import DELETE_CUT_OFF

AGAIN = "post the document again"


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
                f"it was never indexed: {d.detail}, and its content is no longer kept; {AGAIN}",
            )
        if d.kind == "failed_stores_disagree":
            if record.status != "failed":
                return Repaired("skipped: the document changed since", done=False)
            return _agree(stores, record)
        return _fail(
            stores,
            record,
            f"its chunks are no longer all stored ({d.kind.replace('_', ' ')}: {d.detail}); "
            f"{AGAIN}",
        )


def _delete(stores: Stores, d: Difference) -> Repaired:
    ids = list(d.chunk_ids)
    if d.kind.endswith("_vectors"):
        stores.store.delete(d.collection, ids)
        return Repaired(f"deleted {len(ids)} chunks from the vector store", len(ids))
    stores.keywords.delete(d.collection, ids)
    return Repaired(f"deleted {len(ids)} chunks from the keyword index", len(ids))


def _agree(stores: Stores, record: DocumentRecord) -> Repaired:
    deleted = _settle(stores, record)
    action = f"deleted {deleted} chunks held by one store only, or not one version"
    vectors = stores.store.chunk_ids(record.collection, [record.id])[record.id]
    keywords = stores.keywords.chunk_ids(record.collection, [record.id])[record.id]
    if not vectors and not keywords and record.error != DELETE_CUT_OFF:
        reason = f"{record.error}; none of its chunks is stored: {AGAIN}"
        stores.catalog.update(
            record.collection, record.id, record.content_hash, status="failed", error=reason
        )
        action += f"; reason now: {reason}"
    return Repaired(action, deleted)


def _settle(stores: Stores, record: DocumentRecord) -> int:
    """Make a failed record's chunks the same in both stores (``compare_failed``); how many
    chunks were deleted."""
    vectors = stores.store.chunk_ids(record.collection, [record.id])[record.id]
    keywords = stores.keywords.chunk_ids(record.collection, [record.id])[record.id]
    difference = compare_failed(record, vectors, keywords)
    if difference is None:
        return 0
    ids = list(difference.chunk_ids)
    stores.keywords.delete(record.collection, ids)
    stores.store.delete(record.collection, ids)
    return len(ids)


def _requeue(
    stores: Stores, record: DocumentRecord, document: PendingDocument, action: str
) -> Repaired:
    job_id = uuid.uuid4().hex
    queued = replace(record, status="queued", job_id=job_id, error=None)
    stores.catalog.submit([queued], IngestJob(id=job_id, documents=[document]))
    return Repaired(f"{action} (job {job_id})")


def _fail(stores: Stores, record: DocumentRecord, reason: str) -> Repaired:
    """Mark the document failed, its chunks left the same in both stores (``_settle``)."""
    stores.catalog.update(
        record.collection, record.id, record.content_hash, status="failed", error=reason
    )
    deleted = _settle(stores, record)
    also = f"; deleted {deleted} chunks the stores did not hold alike" if deleted else ""
    return Repaired(f"marked failed: {reason}{also}", deleted)
