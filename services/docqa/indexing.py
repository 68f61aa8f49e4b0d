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
(``Chunker.indexed_texts``, rule in ``docqa.chunk_context``); Chroma and the keyword index store
and return the chunk's own text (the slice of the document). A copy (reindex) rebuilds the
prefix from the stored chunk's metadata, for the new model.

Deleting (``remove_document``) follows the same order under the document's lock: keyword index,
then Chroma, then the catalog record, so a failure half-way keeps the record, to delete again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

from docqa import chunk_context
from docqa.chunking import chunk_document
from docqa.errors import DocqaError, InvalidInput, NotFound, Unavailable
from docqa.extraction import extract_sections
from docqa.models import Chunk, PendingDocument, Section
from docqa.ports import Catalog, Embedder, KeywordIndex, VectorStore

EMBED_BATCH = 128  # one encode call sorts its texts by length: less padding than 32s

Progress = Callable[[int, int], None]


@dataclass
class IndexReport:
    indexed: dict[str, int] = field(default_factory=dict)  # document id -> chunk count
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # document id -> reason
    embedded: int = 0
    done: int = 0  # chunks embedded now or found already stored


@dataclass(frozen=True)
class Chunker:
    tokenizer: Embedder
    max_tokens: int
    overlap: int
    store: VectorStore | None = None  # where copies' chunks are read
    limit: int | None = None  # the model's max input (default max_tokens): see indexed_texts

    def __call__(self, document: PendingDocument) -> list[Chunk]:
        if document.copy_from is not None:
            return self._copy(document, document.copy_from)
        sections = sections_of(document)
        chunks = chunk_document(
            document.id,
            sections,
            self.tokenizer,
            self.max_tokens,
            self.overlap,
            title=document_title(document, sections),
        )
        if not chunks:
            raise InvalidInput(f"document {document.id!r} has no text to index")
        # the request's metadata over the file's own (Markdown front matter); neither holds
        # a key the service writes (title, section, start...), so those stay the chunk's
        extra = {**document.metadata, "source": document.source}
        return [replace(chunk, metadata={**chunk.metadata, **extra}) for chunk in chunks]

    def indexed_texts(self, chunks: Sequence[Chunk]) -> list[str]:
        """What the embedder and the keyword index get: each chunk's text after its title and
        heading path, prefix and text within ``limit`` tokens (``chunk_context.indexed_texts``)."""
        return chunk_context.indexed_texts(chunks, self.tokenizer, self.max_tokens, self.limit)

    def _copy(self, document: PendingDocument, source: str) -> list[Chunk]:
        """The chunks (text and metadata as they are) of the document in another collection:
        re-indexing with a new model keeps every chunk's id."""
        assert self.store is not None, "a chunker for copies needs the store they are read from"
        chunks = [chunk for _, chunk in self.store.chunks(source, document.id)]
        if not chunks:
            raise InvalidInput(f"document {document.id!r} has no chunks in {source!r}")
        return chunks


def document_title(document: PendingDocument, sections: Sequence[Section]) -> str | None:
    """The title sent with a text; for an upload (whose title is its file name) the title its
    content carries (front matter, ``<title>``, first heading: the sections' ``title``), else
    its file name."""
    if document.source == "text":
        return document.title
    found = (str(s.metadata["title"]) for s in sections if s.metadata.get("title"))
    return next(found, document.title)


def sections_of(document: PendingDocument) -> list[Section]:
    if isinstance(document.data, str):
        return [Section(document.data)]
    return extract_sections(document.kind, document.data)


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
    for document in documents:
        if not _is_current(catalog, document):
            report.skipped.append(document.id)
            continue
        try:
            store.ensure_collection(document.collection, embedder.spec)
            chunks = chunker(document)
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
        planned.append((document, chunks))

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
        every = [chunk for _, chunks in current for chunk in chunks]
        indexed = dict(zip((c.id for c in every), chunker.indexed_texts(every), strict=True))
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
            stale = sorted(stored[document.id] - {chunk.id for chunk in chunks})
            keywords.delete(collection, stale)
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
        if catalog.get(collection, document_id) is None:
            raise NotFound(f"document {document_id!r} is not in collection {collection!r}")
        keywords.delete_document(collection, document_id)
        store.delete_document(collection, document_id)
        catalog.delete(collection, document_id)


def _is_current(catalog: Catalog, document: PendingDocument) -> bool:
    record = catalog.get(document.collection, document.id)
    return record is not None and record.content_hash == document.content_hash
