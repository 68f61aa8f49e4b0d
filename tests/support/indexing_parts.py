"""One run of ``index_documents`` on the shared fakes, and documents as the API accepts them
(``tests/unit/ingest``'s indexing tests)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence

from docqa.core.errors import Unavailable
from docqa.core.models import Chunk, DocumentRecord, PendingDocument
from docqa.ingest.indexing import Chunker, IndexReport, index_documents
from support.fakes import FakeCatalog, FakeEmbedder, FakeKeywordIndex, FakeStore

COLLECTION = "c"
WORDS_PER_CHUNK = 8


def text(words: int, tag: str = "w") -> str:
    return " ".join(f"{tag}{i}" for i in range(words)) + "."


def pending(document_id: str, body: str) -> PendingDocument:
    digest = hashlib.sha256(body.encode()).hexdigest()
    return PendingDocument(COLLECTION, document_id, digest, data=body)


def accepted(catalog: FakeCatalog, *documents: PendingDocument) -> None:
    """The catalog's records of ``documents``, as ``POST /documents`` leaves them (a new
    version keeps its predecessor's ``created_at``, as ``intake.accept`` does)."""
    catalog.put([record(catalog, d) for d in documents])


def record(catalog: FakeCatalog, d: PendingDocument) -> DocumentRecord:
    old = catalog.get(d.collection, d.id)
    created = old.created_at if old is not None else 0.0
    return DocumentRecord(
        d.id, d.collection, None, {}, "text", d.content_hash, "queued", "job", created_at=created
    )


class Parts:
    """The fakes one run of ``index_documents`` is given, and the progress it reported."""

    def __init__(self) -> None:
        self.embedder = FakeEmbedder()
        self.store = FakeStore()
        self.keywords = FakeKeywordIndex()
        self.catalog = FakeCatalog()
        self.chunker = Chunker(self.embedder, max_tokens=WORDS_PER_CHUNK, overlap=0)
        self.progress: list[tuple[int, int]] = []

    def index(self, *documents: PendingDocument) -> IndexReport:
        return index_documents(
            documents,
            embedder=self.embedder,
            store=self.store,
            keywords=self.keywords,
            catalog=self.catalog,
            chunker=self.chunker,
            progress=lambda done, total: self.progress.append((done, total)),
        )

    def stored(self, document_id: str) -> list[str]:
        """The document's chunk ids in the vector store, by position."""
        return [chunk_id for chunk_id, _ in self.store.chunks(COLLECTION, document_id)]

    def in_keywords(self, document_id: str) -> list[str]:
        chunks = self.keywords.chunks.get(COLLECTION, {}).values()
        mine = sorted((c for c in chunks if c.document_id == document_id), key=_position)
        return [c.id for c in mine]


def _position(chunk: Chunk) -> int:
    return chunk.position


class FailingStore(FakeStore):
    """A vector store that goes away after ``upserts`` writes (Chroma killed mid-job)."""

    def __init__(self, upserts: int) -> None:
        super().__init__()
        self.upserts_left = upserts

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        if self.upserts_left == 0:
            raise Unavailable("chroma went away", service="chroma")
        self.upserts_left -= 1
        super().upsert(collection, chunks, vectors)


def settle(reached: Callable[[], bool]) -> None:
    """Wait until ``reached()`` (10 s at most), then a little longer: time for any more."""
    deadline = time.monotonic() + 10
    while not reached() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
