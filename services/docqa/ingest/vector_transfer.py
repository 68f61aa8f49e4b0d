"""A collection out and in with its vectors: export pages, and import without the embedder.

Export reads a page of the catalog's documents (oldest first) and each indexed one's stored
chunks with their vectors (``VectorStore.vectors``); a document not indexed now (queued,
failed, or its stored chunks not yet its positions 0..n-1 because a job is replacing it) is
left out of the page and named in ``skipped``.

Import takes documents that carry their chunks and vectors (a backup, another deployment's
collection, vectors computed elsewhere) and checks everything before writing anything
(``import_checks``): the vectors' model, dimension and normalisation against the collection's
(or, for a new collection, the configured embedder's), each document's id, content hash,
positions (0..n-1), metadata and vectors (length, finite, unit length when normalised). Then
it writes as indexing does, under each document's lock: keyword index, then Chroma (stale
chunks of a replaced document deleted after, in the same order), then the catalog record,
``indexed``.
A crash half-way leaves chunks without a record, which an import run again overwrites (the
record is what a resumed import compares). Chunk ids are ``Chunk.id`` of the chunk's content,
never taken from the input, and the embedder is never called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from docqa.core.errors import NotFound
from docqa.core.models import Chunk, DocumentRecord, EmbeddingSpec
from docqa.core.ports import Catalog, Embedder, KeywordIndex, StoredChunk, VectorStore
from docqa.ingest.import_checks import ImportedDocument, VectorsSpec, check_documents, check_spec

FORMAT_VERSION = 1  # of the export's pages and files

IndexedTexts = Callable[[Sequence[Chunk]], list[str]]


@dataclass
class ExportedPage:
    spec: EmbeddingSpec
    total: int  # documents in the catalog
    read: int  # records this page read (indexed or not)
    documents: list[tuple[DocumentRecord, list[StoredChunk]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Imported:
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks: int = 0  # chunks written


def export_page(
    collection: str, offset: int, limit: int, *, store: VectorStore, catalog: Catalog
) -> ExportedPage:
    """The indexed documents among ``limit`` catalog records from ``offset``, with their
    chunks and vectors. ``NotFound`` when the store has no such collection."""
    spec = store.collection_spec(collection)
    if spec is None:
        raise NotFound(f"collection {collection!r} does not exist (or has no documents yet)")
    records, total = catalog.page(collection, offset, limit)
    page = ExportedPage(spec=spec, total=total, read=len(records))
    indexed = [r for r in records if r.status == "indexed"]
    stored: dict[str, list[StoredChunk]] = {r.id: [] for r in indexed}
    for item in store.vectors(collection, list(stored)):
        stored[item[1].document_id].append(item)
    for record in records:
        chunks = stored.get(record.id)
        positions = [chunk.position for _, chunk, _ in chunks or []]
        if chunks and positions == list(range(record.chunks)):
            page.documents.append((record, chunks))
        else:
            page.skipped.append(record.id)
    return page


def import_documents(
    collection: str,
    given: VectorsSpec,
    documents: list[ImportedDocument],
    *,
    store: VectorStore,
    keywords: KeywordIndex,
    catalog: Catalog,
    embedder: Embedder,
    indexed_texts: IndexedTexts | None = None,
) -> Imported:
    """Check everything, then write (see the module's docstring). A document already stored
    indexed with the same content hash is left as it is (``unchanged``). With no documents it
    only checks the spec: how a client asks before it sends. ``indexed_texts`` gives what the
    keyword index gets for each chunk, as indexing does (``Chunker.indexed_texts``: its title
    and heading path before its text); by default the chunk's own text."""
    existing = store.collection_spec(collection)
    target = existing if existing is not None else embedder.spec
    check_spec(collection, given, target, new=existing is None)
    check_documents(documents, given)
    done = Imported()
    if not documents:
        return done
    previous = catalog.get_many(collection, [d.id for d in documents])
    changed = [d for d in documents if not _unchanged(previous.get(d.id), d)]
    ids = {d.id for d in changed}
    done.unchanged = [d.id for d in documents if d.id not in ids]
    if not changed:
        return done
    store.ensure_collection(collection, target)
    with ExitStack() as held:
        leases = [  # in id order, so two writers never wait on each other's locks
            held.enter_context(catalog.lock(collection, d.id))
            for d in sorted(changed, key=lambda d: d.id)
        ]
        chunks = {d.id: _chunks(d) for d in changed}
        vectors = [c.embedding for d in changed for c in d.chunks]
        every = [chunk for d in changed for chunk in chunks[d.id]]
        stored = store.chunk_ids(collection, [d.id for d in changed])
        keywords.upsert(collection, every, indexed_texts(every) if indexed_texts else None)
        store.upsert(collection, every, vectors)
        for lease in leases:
            lease.reacquire()
        current = catalog.get_many(collection, [d.id for d in changed])
        for document in changed:
            stale = sorted(stored[document.id] - {c.id for c in chunks[document.id]})
            keywords.delete(collection, stale)
            store.delete(collection, stale)
        catalog.put([_record(collection, d, current.get(d.id)) for d in changed])
    done.imported = [d.id for d in changed]
    done.chunks = len(every)
    return done


def _chunks(document: ImportedDocument) -> list[Chunk]:
    return [Chunk(document.id, c.position, c.text, dict(c.metadata)) for c in document.chunks]


def _record(
    collection: str, document: ImportedDocument, old: DocumentRecord | None
) -> DocumentRecord:
    return DocumentRecord(
        id=document.id,
        collection=collection,
        title=document.title,
        metadata=dict(document.metadata),
        source=document.source,
        content_hash=document.content_hash,
        status="indexed",
        job_id=None,
        chunks=len(document.chunks),
        created_at=old.created_at if old is not None else 0.0,
    )


def _unchanged(record: DocumentRecord | None, document: ImportedDocument) -> bool:
    return (
        record is not None
        and record.content_hash == document.content_hash
        and record.status == "indexed"
    )
