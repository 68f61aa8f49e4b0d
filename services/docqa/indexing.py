"""The document path, top-down: accepted document → sections → chunks → vectors → Chroma.

Each document is indexed idempotently. Its chunks have deterministic ids, so:
- chunks already in the store are not embedded again (re-posting identical content is a no-op),
- new chunks are upserted first and stale ones deleted after, so a replaced document is never
  absent from search, and a run killed half-way is finished by simply running it again.
A document whose catalog record no longer has this content (deleted, or posted again with other
content since) is skipped: the newer job owns it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from docqa.chunking import chunk_document
from docqa.errors import DocqaError, InvalidInput, Unavailable
from docqa.extraction import extract_sections
from docqa.models import Chunk, PendingDocument, Section
from docqa.ports import Catalog, Embedder, VectorStore

EMBED_BATCH = 32

Progress = Callable[[int, int], None]


@dataclass
class IndexReport:
    indexed: dict[str, int] = field(default_factory=dict)  # document id -> chunk count
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # document id -> reason
    embedded: int = 0


@dataclass(frozen=True)
class Chunker:
    tokenizer: Embedder
    max_tokens: int
    overlap: int

    def __call__(self, document: PendingDocument) -> list[Chunk]:
        chunks = chunk_document(
            document.id, sections_of(document), self.tokenizer, self.max_tokens, self.overlap
        )
        if not chunks:
            raise InvalidInput(f"document {document.id!r} has no text to index")
        extra = {**document.metadata, "source": document.source}
        if document.title:
            extra["title"] = document.title
        return [replace(chunk, metadata={**extra, **chunk.metadata}) for chunk in chunks]


def sections_of(document: PendingDocument) -> list[Section]:
    if isinstance(document.data, str):
        return [Section(document.data)]
    return extract_sections(document.kind, document.data)


def index_documents(
    documents: Sequence[PendingDocument],
    *,
    embedder: Embedder,
    store: VectorStore,
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
    done = 0
    progress(done, total)
    for document, chunks in planned:
        with catalog.lock(document.collection, document.id) as lease:
            if not _is_current(catalog, document):  # deleted or replaced while we chunked
                report.skipped.append(document.id)
                done += len(chunks)
                continue
            existing = store.chunk_ids(document.collection, document.id)
            fresh = [chunk for chunk in chunks if chunk.id not in existing]
            done += len(chunks) - len(fresh)
            for start in range(0, len(fresh), EMBED_BATCH):
                batch = fresh[start : start + EMBED_BATCH]
                store.upsert(document.collection, batch, embedder.embed([c.text for c in batch]))
                lease.reacquire()
                report.embedded += len(batch)
                done += len(batch)
                progress(done, total)
            store.delete(document.collection, sorted(existing - {chunk.id for chunk in chunks}))
            catalog.update(
                document.collection,
                document.id,
                document.content_hash,
                status="indexed",
                chunks=len(chunks),
                error=None,
            )
        report.indexed[document.id] = len(chunks)
    progress(total, total)
    return report


def _is_current(catalog: Catalog, document: PendingDocument) -> bool:
    record = catalog.get(document.collection, document.id)
    return record is not None and record.content_hash == document.content_hash
