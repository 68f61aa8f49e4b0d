"""The Protocols behind which each outside system sits; adapters (and test fakes) implement them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from docqa.core.models import (
    Chunk,
    DocumentRecord,
    EmbeddingSpec,
    FeedbackRecord,
    Generation,
    Hit,
    IngestJob,
    JobView,
    Metadata,
    PendingDocument,
    Prompt,
)

# Character offsets (start, end) of each token of a text, special tokens left out.
TokenSpans = list[tuple[int, int]]
# A stored chunk with its id and vector, as a collection's export reads it.
StoredChunk = tuple[str, Chunk, list[float]]


class Tokenizer(Protocol):
    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]: ...


class Embedder(Tokenizer, Protocol):
    """Turns texts into vectors (and tokenizes with the same model, for chunking)."""

    @property
    def spec(self) -> EmbeddingSpec: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Splits into batches the server accepts by itself."""
        ...

    def check(self) -> None:
        """Raise ``Unavailable`` when the embedder cannot serve."""
        ...


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


class Reranker(Protocol):
    """A cross-encoder that scores (query, text) pairs together: slower, sharper than vectors."""

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """One relevance score per text, in the order given; higher is more relevant."""
        ...

    def check(self) -> None:
        """Raise ``Unavailable`` when the reranker cannot serve."""
        ...


class Generator(Protocol):
    """A text generator behind an OpenAI-compatible server (vLLM, llama.cpp's server)."""

    async def context_window(self) -> int:
        """Tokens the model accepts, prompt and answer together (cached after the first call)."""
        ...

    async def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the server's tokenizer (a conservative estimate without one)."""
        ...

    async def generate(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> Generation: ...

    def stream(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[str | Generation, None]:
        """Text pieces as they come, then one final ``Generation`` (whole text and usage).

        Close the iterator (``aclose()``, or ``contextlib.aclosing``) to stop generating early.
        """
        ...

    async def check(self) -> None:
        """Raise ``Unavailable`` when the generator cannot serve."""
        ...


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


class JobQueue(Protocol):
    """The ingest jobs, as the API reports them (jobs are enqueued by ``Catalog.submit``)."""

    def status(self, job_id: str) -> JobView:
        """Raise ``NotFound`` for a job that does not exist (or has expired)."""
        ...

    def counts(self) -> dict[str, int]:
        """Jobs in each state ("queued": the queue's depth)."""
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


@runtime_checkable
class PayloadQueue(JobQueue, Protocol):
    def documents(self, job_id: str) -> list[PendingDocument] | None:
        """The documents job ``job_id`` indexes, while the queue keeps them (None after)."""
        ...


# --- ``docqa check`` run by a worker as a job (``POST /admin/checks``) ---

CheckState = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True)
class CheckView:
    """A check as an operator sees it: its state, where it has got to (``stage``: what it reads
    now, such as "docs: catalog"), and once done its report (``ingest.check_report``)."""

    id: str
    state: CheckState
    collections: list[str] | None  # None: every collection
    repair: bool
    stage: str
    done: int
    total: int | None  # None: not known ahead (a store's listing)
    report: dict[str, Any] | None  # once done
    error: str | None  # once failed
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class CheckRuns(Protocol):
    """Checks queued for the worker, their progress and reports kept a while in the queue's
    Redis. An outage is ``Unavailable``."""

    def start(
        self, collections: list[str] | None, repair: bool, request_id: str | None = None
    ) -> CheckView: ...

    def status(self, check_id: str) -> CheckView:
        """Raise ``NotFound`` for an id that names no check (or one whose report expired)."""
        ...
