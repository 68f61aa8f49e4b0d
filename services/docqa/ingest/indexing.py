"""The document path, top-down: accepted document → sections → chunks → vectors → Chroma,
and the same chunks' text → the keyword index.

Each document is indexed idempotently. Its chunks have deterministic ids, so:
- chunks already in the store are not embedded again (re-posting identical content is a no-op),
- new chunks are upserted first and stale ones deleted after, so a replaced document is never
  absent from search, and a run killed half-way is finished by simply running it again.
- the keyword index is written before Chroma and cleaned before it: what Chroma holds decides
  what a re-run redoes, so a run killed between the two leaves nothing that is never repaired.
A document whose catalog record no longer has this content (deleted, or posted again with other
content since) is skipped: the newer job owns it.

The embedder and the keyword index get each chunk's text prefixed by its title and heading path
(``Chunker.indexed_texts``, rule in ``docqa.ingest.chunking.context``); Chroma and the keyword
index store and return the chunk's own text (the slice of the document). Chunking a document counts
that text already (``chunking.indexed_chunks``), so only the chunks it did not count are tokenized
for it again. A copy (reindex) rebuilds the prefix from the stored chunk's metadata, for the
new model.

Deleting (``remove_document``) follows the same order under the document's lock: keyword index,
then Chroma, then the catalog record, so a failure half-way keeps the record, to delete again;
the record is marked failed first (``DELETE_CUT_OFF``), so that one cut off half-way does not
claim an indexed document whose chunks are gone from one store (found by the chaos soak).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from docqa.core.errors import DocqaError, NotFound, Unavailable
from docqa.core.models import Chunk, PendingDocument
from docqa.core.ports import Catalog, Embedder, KeywordIndex, VectorStore
from docqa.ingest.chunking.chunker import Chunker

DELETE_CUT_OFF = "its deletion was cut off by an outage; delete it again"
EMBED_BATCH = 128  # one encode call sorts its texts by length: less padding than 32s

Progress = Callable[[int, int], None]


@dataclass
class IndexReport:
    indexed: dict[str, int] = field(default_factory=dict)  # document id -> chunk count
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # document id -> reason
    embedded: int = 0
    done: int = 0  # chunks embedded now or found already stored


def index_documents(
    documents: Sequence[PendingDocument],
    *,
    embedder: Embedder,
    store: VectorStore,
    keywords: KeywordIndex,
    catalog: Catalog,
    chunker: Chunker,
    progress: Progress,
) -> IndexReport:
    report = IndexReport()
    planned: list[tuple[PendingDocument, list[Chunk]]] = []
    indexed: dict[str, str] = {}  # chunk id -> its indexed text (Chunker.indexed_texts')
    for document in documents:
        if not _is_current(catalog, document):
            report.skipped.append(document.id)
            continue
        try:
            store.ensure_collection(document.collection, embedder.spec)
            made = chunker.indexed(document)
        except Unavailable:
            raise
        except DocqaError as exc:
            report.failed[document.id] = exc.detail
            catalog.update(
                document.collection,
                document.id,
                document.content_hash,
                status="failed",
                error=exc.detail,
            )
            continue
        indexed.update((chunk.id, text) for chunk, text in made if text is not None)
        planned.append((document, [chunk for chunk, _ in made]))

    total = sum(len(chunks) for _, chunks in planned)
    progress(0, total)
    for group in _groups(planned, EMBED_BATCH):
        _index_group(
            group,
            embedder=embedder,
            store=store,
            keywords=keywords,
            catalog=catalog,
            chunker=chunker,
            indexed=indexed,
            report=report,
            tick=lambda: progress(report.done, total),
        )
    progress(total, total)
    return report


Planned = list[tuple[PendingDocument, list[Chunk]]]


def _groups(planned: Planned, size: int) -> Iterator[Planned]:
    """Consecutive documents of one collection with at most ``size`` chunks between them (a
    longer document alone), so that short documents are embedded and written in full batches."""
    group: Planned = []
    count = 0
    for document, chunks in planned:
        if group and (count + len(chunks) > size or document.collection != group[0][0].collection):
            yield group
            group, count = [], 0
        group.append((document, chunks))
        count += len(chunks)
    if group:
        yield group


def _index_group(
    group: Planned,
    *,
    embedder: Embedder,
    store: VectorStore,
    keywords: KeywordIndex,
    catalog: Catalog,
    chunker: Chunker,
    indexed: dict[str, str],
    report: IndexReport,
    tick: Callable[[], None],
) -> None:
    collection = group[0][0].collection
    with ExitStack() as held:
        leases = [  # in id order, so two workers never wait on each other's locks
            held.enter_context(catalog.lock(collection, document.id))
            for document, _ in sorted(group, key=lambda item: item[0].id)
        ]
        current: Planned = []
        for document, chunks in group:
            if _is_current(catalog, document):
                current.append((document, chunks))
            else:  # deleted or replaced while we chunked
                report.skipped.append(document.id)
                report.done += len(chunks)
        stored = store.chunk_ids(collection, [document.id for document, _ in current])
        # the keyword index's own: an attempt cut off between the two indexes, then superseded
        # by a newer version, left keyword chunks Chroma never had (found by the chaos soak)
        in_keywords = keywords.chunk_ids(collection, [document.id for document, _ in current])
        every = [chunk for _, chunks in current for chunk in chunks]
        missing = [chunk for chunk in every if chunk.id not in indexed]  # chunking did not count
        indexed.update(zip([c.id for c in missing], chunker.indexed_texts(missing), strict=True))
        keywords.upsert(collection, every, [indexed[chunk.id] for chunk in every])
        fresh = [c for d, chunks in current for c in chunks if c.id not in stored[d.id]]
        report.done += sum(len(chunks) for _, chunks in current) - len(fresh)
        for start in range(0, len(fresh), EMBED_BATCH):
            batch = fresh[start : start + EMBED_BATCH]
            vectors = embedder.embed([indexed[chunk.id] for chunk in batch])
            store.upsert(collection, batch, vectors)
            for lease in leases:
                lease.reacquire()
            report.embedded += len(batch)
            report.done += len(batch)
            tick()
        for document, chunks in current:
            now = {chunk.id for chunk in chunks}
            stale = sorted(stored[document.id] - now)
            keywords.delete(collection, sorted(set(stale) | (in_keywords[document.id] - now)))
            store.delete(collection, stale)
            catalog.update(
                collection,
                document.id,
                document.content_hash,
                status="indexed",
                chunks=len(chunks),
                error=None,
            )
            report.indexed[document.id] = len(chunks)
    tick()


def remove_document(
    collection: str,
    document_id: str,
    *,
    store: VectorStore,
    keywords: KeywordIndex,
    catalog: Catalog,
) -> None:
    """Delete a document: its chunks, keyword index before Chroma, then its record, under its
    lock (never while a job indexes it). ``NotFound`` when the catalog does not have it."""
    with catalog.lock(collection, document_id):
        record = catalog.get(collection, document_id)
        if record is None:
            raise NotFound(f"document {document_id!r} is not in collection {collection!r}")
        # first said in its record: a deletion cut off half-way (an outage) leaves the document
        # failed with the reason, not "indexed" with its chunks gone from one store
        catalog.update(
            collection, document_id, record.content_hash, status="failed", error=DELETE_CUT_OFF
        )
        keywords.delete_document(collection, document_id)
        store.delete_document(collection, document_id)
        catalog.delete(collection, document_id)


def _is_current(catalog: Catalog, document: PendingDocument) -> bool:
    record = catalog.get(document.collection, document.id)
    return record is not None and record.content_hash == document.content_hash
