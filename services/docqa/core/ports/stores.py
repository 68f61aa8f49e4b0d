"""The ports of the stores: chunks with their vectors, the keyword index, the catalog of
documents, the feedback log and the rate limit's counts; and how ``docqa check`` lists each
whole."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from docqa.core.models import (
    Chunk,
    DocumentRecord,
    EmbeddingSpec,
    FeedbackRecord,
    Hit,
    IngestJob,
    Metadata,
)

# A stored chunk with its id and vector, as a collection's export reads it.
StoredChunk = tuple[str, Chunk, list[float]]


class VectorStore(Protocol):
    def ensure_collection(self, collection: str, spec: EmbeddingSpec) -> None:
        """Create the collection for ``spec``; raise ``Conflict`` if it exists for another model."""
        ...

    def collection_spec(self, collection: str) -> EmbeddingSpec | None: ...

    def collections(self) -> dict[str, EmbeddingSpec]:
        """Every collection this service made, with the model it was indexed with, by name."""
        ...

    def chunk_ids(self, collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
        """The stored chunk ids of each document."""
        ...

    def chunks(self, collection: str, document_id: str) -> list[tuple[str, Chunk]]:
        """A document's stored chunks with their ids, in order."""
        ...

    def chunks_by_id(self, collection: str, ids: Sequence[str]) -> dict[str, Chunk]:
        """The stored chunks among ``ids`` (ids not stored are left out), by id."""
        ...

    def vectors(self, collection: str, document_ids: Sequence[str]) -> list[StoredChunk]:
        """The stored chunks of ``document_ids`` with their ids and vectors, by document (in
        the order given) then position; a page of the catalog's documents at a time is how a
        collection is read whole (``transfer``), so no call holds more than such a page."""
        ...

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None: ...

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def delete_document(self, collection: str, document_id: str) -> None: ...

    def query(
        self, collection: str, vector: Sequence[float], top_k: int, where: Metadata | None = None
    ) -> list[Hit]: ...

    def check(self) -> None: ...


class KeywordIndex(Protocol):
    """Full-text (BM25) search over the same chunks as the vector store, kept in step with it."""

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], texts: Sequence[str] | None = None
    ) -> None:
        """Index each chunk by ``texts[i]`` (its text with its context prefix; default its own
        text); a hit returns the chunk's own text."""
        ...

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def delete_document(self, collection: str, document_id: str) -> None: ...

    def chunk_ids(self, collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
        """The indexed chunk ids of each document."""
        ...

    def search(
        self, collection: str, query: str, top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        """Best first; ``Hit.score`` is the BM25 score (higher is better)."""
        ...

    def check(self) -> None: ...


class Lease(Protocol):
    def reacquire(self) -> bool:
        """Renew the lock's expiry: its holder is still working."""
        ...


class Catalog(Protocol):
    """What the service knows of each accepted document (see adapters/catalog.py)."""

    def get(self, collection: str, document_id: str) -> DocumentRecord | None: ...

    def get_many(self, collection: str, document_ids: list[str]) -> dict[str, DocumentRecord]:
        """The records found among ``document_ids``, by id."""
        ...

    def put(self, records: list[DocumentRecord]) -> None: ...

    def submit(self, records: list[DocumentRecord], job: IngestJob) -> None:
        """Write ``records`` and enqueue ``job`` (which indexes them) atomically: both or
        neither, so an accepted document always has a job that will index it."""
        ...

    def update(
        self, collection: str, document_id: str, content_hash: str, **changes: object
    ) -> bool:
        """Change fields of a record only if it still has ``content_hash``."""
        ...

    def delete(self, collection: str, document_id: str) -> None: ...

    def lock(self, collection: str, document_id: str) -> AbstractContextManager[Lease]:
        """Held while a document is indexed or deleted, across processes."""
        ...

    def page(
        self, collection: str, offset: int, limit: int
    ) -> tuple[list[DocumentRecord], int]: ...

    def release_locks_of(self, owner: str) -> int:
        """Drop the document locks held by ``owner`` (a worker that died holding them)."""
        ...

    def check(self) -> None:
        """Raise ``Unavailable`` when the catalog cannot serve."""
        ...


class FeedbackLog(Protocol):
    """What users marked relevant or not (``POST /feedback``), kept for fine-tuning."""

    def append(self, record: FeedbackRecord) -> None: ...

    def read(self, collection: str) -> list[FeedbackRecord]:
        """A collection's records, oldest first."""
        ...


class RequestCounter(Protocol):
    """Counts requests in shared windows, so that every API process sees one count (rate limits)."""

    def count(self, key: str, ttl_s: int) -> int:
        """Count one more under ``key``, kept ``ttl_s`` seconds from now; the count so far.
        An outage is ``Unavailable``."""
        ...


# --- What ``docqa check`` (ingest/consistency.py) reads besides: listing each store whole ---

# A stored chunk's id and its document's id.
ChunkRef = tuple[str, str]


@runtime_checkable
class ListedStore(VectorStore, Protocol):
    """A ``VectorStore`` that lists its chunk ids a page at a time."""

    def id_page(self, collection: str, offset: int, limit: int) -> list[ChunkRef]:
        """Up to ``limit`` stored chunks from ``offset`` on, in the store's own order."""
        ...

    def count(self, collection: str) -> int:
        """How many chunks the collection holds (0 when there is no such collection)."""
        ...


@runtime_checkable
class ListedKeywords(KeywordIndex, Protocol):
    """A ``KeywordIndex`` that lists the chunks it holds."""

    def id_pages(self, collection: str, size: int) -> Iterator[list[ChunkRef]]:
        """Every indexed chunk, about ``size`` at a time (each once, if not written meanwhile)."""
        ...


@runtime_checkable
class ListedCatalog(Catalog, Protocol):
    def collections(self) -> list[str]:
        """The collections that hold at least one record."""
        ...
