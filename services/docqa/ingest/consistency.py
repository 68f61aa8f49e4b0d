"""Whether the catalog, the vector store and the keyword index agree (``docqa check``).

The catalog is the source of truth: a document exists if it has a record, an ``indexed`` record
of ``chunks=N`` has exactly one chunk at each position ``0..N-1`` in each store (a chunk's id is
``<document>:<position>:<digest>``), the same one in both, and a ``queued`` record has a job that
will index it. What differs is reported by kind (``KINDS``); ``docqa.ingest.repair`` puts each
kind right. ``queued`` records' chunks are not compared (their job is rewriting them); a ``failed``
record's may be an earlier version's (a failed new version leaves them searchable) or none, but
the same ones in both stores (``differences.compare_failed``).

It streams: the catalog a page of records at a time (their chunk ids read per page from both
stores), then each store's chunk ids a page at a time (their documents looked up in the catalog,
for orphans); no call holds more than a page, so memory stays bounded at a million chunks. It
reads a live service: a record that changed while its chunks were read is left for the next run.

Chroma's pages are read by offset, and its cost per page grows with the offset (10 minutes
projected for 1M chunks), so the vector store is listed only when it holds chunks that the
catalog's documents do not account for: its ``count`` against the chunks of every record read
(queued ones' too). Equal, no chunk belongs to a document the catalog lacks (each chunk names
one document), so there is no orphan to find. On a live service, writes between the two reads
can make them differ (the store is listed then) or, for one run, hide as many orphans as a
concurrent deletion removed chunks of listed documents; the next run finds them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from docqa.core.errors import NotFound
from docqa.core.models import DocumentRecord
from docqa.core.ports import ChunkRef, ListedCatalog, ListedKeywords, ListedStore, PayloadQueue
from docqa.ingest.differences import Difference, Kind, Summary, compare, compare_failed

PAGE = 500


@dataclass(frozen=True)
class Stores:
    catalog: ListedCatalog
    store: ListedStore
    keywords: ListedKeywords
    queue: PayloadQueue


# Called with each difference as it is found; returns how many chunks it deleted (a repair).
OnDifference = Callable[[Difference], int]
Progress = Callable[[str, int, int | None], None]  # (what, done, total or None)


def check(
    stores: Stores,
    collections: Sequence[str] | None,
    on_difference: OnDifference,
    progress: Progress = lambda *_: None,
) -> Summary:
    """Compare the stores, collection by collection (default: every one the catalog or the
    vector store knows), calling ``on_difference`` for each difference found."""
    summary = Summary()
    names = collections or sorted(
        set(stores.catalog.collections()) | set(stores.store.collections())
    )
    summary.collections = list(names)

    def found(difference: Difference) -> int:
        summary.found[difference.kind] += 1
        return on_difference(difference)

    for collection in names:
        documents, accounted = _records(stores, collection, found, progress)
        summary.documents += documents
        held = stores.store.count(collection)
        if held == accounted:  # every chunk is a catalog document's: no orphan to look for
            summary.vectors += held
            progress(f"{collection}: vector store (accounted for)", held, held)
        else:
            pages = _StorePages(stores, collection)
            summary.vectors += _orphans(
                stores, collection, "orphan_vectors", pages, found, progress
            )
        summary.keywords += _orphans(
            stores,
            collection,
            "orphan_keywords",
            stores.keywords.id_pages(collection, PAGE),
            found,
            progress,
        )
    return summary


def _records(
    stores: Stores, collection: str, found: OnDifference, progress: Progress
) -> tuple[int, int]:
    """Compare each record of the catalog with both stores; the records read, and the vector
    store's chunks that belong to them (every record's, queued ones' too)."""
    offset = seen = accounted = 0
    while True:
        # a page of PAGE entries of the catalog's index; an entry whose record is gone yields
        # none, so the offset moves by PAGE, not by the records read
        records, total = stores.catalog.page(collection, offset, PAGE)
        seen += len(records)
        compared = [r for r in records if r.status in ("indexed", "failed")]
        ids = [r.id for r in compared]
        vectors = stores.store.chunk_ids(collection, [r.id for r in records])
        accounted += sum(len(chunk_ids) for chunk_ids in vectors.values())
        keywords = stores.keywords.chunk_ids(collection, ids)
        again = stores.catalog.get_many(collection, ids)
        for record in compared:
            if not _same(again.get(record.id), record):
                continue
            v, k = vectors[record.id], keywords[record.id]
            if record.status == "indexed":
                for difference in compare(record, v, k):
                    found(difference)
            elif (failed := compare_failed(record, v, k)) is not None:
                found(failed)
        for record in records:
            if record.status == "queued":
                pending = _pending(stores, record)
                if pending is not None:
                    found(pending)
        offset += PAGE
        progress(f"{collection}: catalog", min(offset, total), total)
        if offset >= total:
            return seen, accounted


def _pending(stores: Stores, record: DocumentRecord) -> Difference | None:
    """A queued record's difference: its job is gone, or ended without indexing it."""
    kind: Kind | None = None
    detail = "no job recorded"
    if record.job_id is not None:
        try:
            state = stores.queue.status(record.job_id).state
        except NotFound:
            kind, detail = "job_missing", f"job {record.job_id} does not exist"
        else:
            if state in ("finished", "failed"):
                kind, detail = "pending_without_job", f"job {record.job_id} has {state}"
    else:
        kind = "job_missing"
    if kind is None:
        return None
    # read again: the job may have moved the record on since the page was read
    if not _same(stores.catalog.get(record.collection, record.id), record):
        return None
    return Difference(
        kind, record.collection, record.id, (), detail, record.content_hash, record.job_id
    )


def _orphans(
    stores: Stores,
    collection: str,
    kind: Kind,
    pages: Iterable[list[ChunkRef]],
    found: OnDifference,
    progress: Progress,
) -> int:
    seen = 0
    what = "vector store" if kind == "orphan_vectors" else "keyword index"
    for page in pages:
        by_document: dict[str, list[str]] = defaultdict(list)
        for chunk_id, document_id in page:
            by_document[document_id].append(chunk_id)
        known = stores.catalog.get_many(collection, list(by_document))
        for document_id, chunk_ids in by_document.items():
            if document_id not in known:
                detail = f"{len(chunk_ids)} chunks of a document the catalog does not have"
                ids = tuple(sorted(chunk_ids))
                deleted = found(Difference(kind, collection, document_id, ids, detail))
                if isinstance(pages, _StorePages):
                    pages.deleted += deleted
        seen += len(page)
        progress(f"{collection}: {what}", seen, None)
    return seen


class _StorePages:
    """The vector store's chunk ids a page at a time, by offset; the orphans a repair deleted
    from a page (``deleted``) move the next page's offset back by as many."""

    def __init__(self, stores: Stores, collection: str) -> None:
        self.stores, self.collection = stores, collection
        self.deleted = 0

    def __iter__(self) -> Iterator[list[ChunkRef]]:
        offset = 0
        while True:
            page = self.stores.store.id_page(self.collection, offset, PAGE)
            if not page:
                return
            self.deleted = 0
            yield page
            offset += len(page) - self.deleted
            if len(page) < PAGE:
                return


def _same(now: DocumentRecord | None, then: DocumentRecord) -> bool:
    return (
        now is not None
        and now.status == then.status
        and now.content_hash == then.content_hash
        and now.job_id == then.job_id
        and now.updated_at == then.updated_at
    )
