"""The shared fakes (``support.fakes``) with what ``docqa check`` reads besides: each store
listed whole, the catalog's collections, a job's kept documents (the ``Listed*`` and
``PayloadQueue`` ports, checked by mypy at the end)."""

from __future__ import annotations

from collections.abc import Iterator

from docqa.core import ports
from docqa.core.models import PendingDocument
from support.fakes import FakeCatalog, FakeKeywordIndex, FakeQueue, FakeStore


class ListedStore(FakeStore):
    def id_page(self, collection: str, offset: int, limit: int) -> list[ports.ChunkRef]:
        self._serve()
        stored = self.collections_.get(collection)
        refs = [(i, c.document_id) for i, (c, _) in (stored.chunks if stored else {}).items()]
        return refs[offset : offset + limit]

    def count(self, collection: str) -> int:
        self._serve()
        stored = self.collections_.get(collection)
        return len(stored.chunks) if stored else 0


class ListedKeywords(FakeKeywordIndex):
    def id_pages(self, collection: str, size: int) -> Iterator[list[ports.ChunkRef]]:
        self._serve()
        refs = [(i, c.document_id) for i, c in self.chunks.get(collection, {}).items()]
        for start in range(0, len(refs), size):
            yield refs[start : start + size]


class ListedCatalog(FakeCatalog):
    def collections(self) -> list[str]:
        self._serve()
        return sorted({collection for collection, _ in self.records})


class PayloadQueue(FakeQueue):
    """Keeps a job's documents until a test drops them (``dropped``), as a finished job's are."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped: set[str] = set()

    def documents(self, job_id: str) -> list[PendingDocument] | None:
        self._serve()
        job = self.jobs.get(job_id)
        return None if job is None or job_id in self.dropped else list(job.documents)


_store: ports.ListedStore = ListedStore()
_keywords: ports.ListedKeywords = ListedKeywords()
_catalog: ports.ListedCatalog = ListedCatalog()
_queue: ports.PayloadQueue = PayloadQueue()
