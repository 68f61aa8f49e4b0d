"""The service's parts as the API and the worker use them: the ``Services`` container, each
part typed by its port, and the models that stand in it built on first use.

``docqa.wiring`` builds the container from ``Settings`` (it alone knows which adapter serves
which port); a test builds one from fakes. ``LazyEmbedder`` and ``LazyReranker`` wrap a model's
build: a TEI server may still be starting, and a local model takes seconds to load, so until one
can be built its callers get ``Unavailable`` (503) and the parts that need no model keep working.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from docqa.core.config import Settings
from docqa.core.errors import DocqaError, Unavailable
from docqa.core.models import EmbeddingSpec
from docqa.core.ports import (
    Catalog,
    CheckRuns,
    Embedder,
    FeedbackLog,
    Generator,
    JobQueue,
    KeywordIndex,
    RequestCounter,
    Reranker,
    TokenSpans,
    VectorStore,
)

T = TypeVar("T")


@dataclass
class Services:
    """One of each part. ``closing`` holds what ``aclose()`` releases (the clients
    ``wiring.services`` opened for them); parts a test made are the test's to close."""

    settings: Settings
    store: VectorStore
    keywords: KeywordIndex
    catalog: Catalog
    queue: JobQueue
    feedback: FeedbackLog
    embedder: Embedder
    generator: Generator
    reranker: Reranker | None = None
    counter: RequestCounter | None = None  # the rate limit's counts (api/security.py)
    checks: CheckRuns | None = None  # docqa check as the worker's job (POST /admin/checks)
    closing: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def aclose(self) -> None:
        await self.closing.aclose()


class Lazy(Generic[T]):
    """Builds a part on first use, once (threads wait for the one build); a failed build is
    ``Unavailable`` naming ``service`` and is tried again on the next use."""

    def __init__(self, build: Callable[[], T], service: str) -> None:
        self._build = build
        self._service = service
        self._built: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._built is None:
                try:
                    self._built = self._build()
                except DocqaError:
                    raise
                except Exception as exc:
                    raise Unavailable(
                        f"the {self._service} cannot start: {exc}", service=self._service
                    ) from exc
            return self._built


class LazyEmbedder:
    """An ``Embedder`` built on first use."""

    def __init__(self, build: Callable[[], Embedder]) -> None:
        self.part = Lazy(build, "embedder")

    @property
    def spec(self) -> EmbeddingSpec:
        return self.part.get().spec

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.part.get().embed(texts)

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        return self.part.get().token_spans(texts)

    @property
    def additive(self) -> bool:
        return self.part.get().additive

    def check(self) -> None:
        self.part.get().check()


class LazyReranker:
    """A ``Reranker`` built on first use."""

    def __init__(self, build: Callable[[], Reranker]) -> None:
        self.part = Lazy(build, "reranker")

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        return self.part.get().rerank(query, texts)

    def check(self) -> None:
        self.part.get().check()
