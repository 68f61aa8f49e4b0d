"""What routes depend on, made once in the lifespan and handed out with ``Annotated``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request
from redis import Redis

from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.chroma import ChromaStore
from docqa.adapters.feedback import RedisFeedbackLog
from docqa.adapters.keyword import RedisKeywordIndex
from docqa.adapters.queue import IngestQueue
from docqa.api.keys import Principal
from docqa.config import Settings
from docqa.errors import DocqaError, Unauthorized, Unavailable
from docqa.observability import search_degraded
from docqa.ports import Embedder, Generator, Reranker
from docqa.retrieval import Fusion, Reranking, Retriever

T = TypeVar("T")


@dataclass
class Lazy(Generic[T]):
    """Builds a model client on first use: a TEI server may still be starting, and a local
    model takes seconds to load. Until it can be built, callers get ``Unavailable``."""

    build: Callable[[], T]
    service: str = "embedder"
    _built: T | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> T:
        with self._lock:
            if self._built is None:
                try:
                    self._built = self.build()
                except DocqaError:
                    raise
                except Exception as exc:
                    raise Unavailable(
                        f"the {self.service} cannot start: {exc}", service=self.service
                    ) from exc
            return self._built


@dataclass
class Services:
    settings: Settings
    redis: Redis
    store: ChromaStore
    catalog: RedisCatalog
    queue: IngestQueue
    keywords: RedisKeywordIndex
    embedder: Lazy[Embedder]
    reranker: Lazy[Reranker] | None
    generator: Generator
    feedback: RedisFeedbackLog


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


def _settings(services: ServicesDep) -> Settings:
    return services.settings


def _store(services: ServicesDep) -> ChromaStore:
    return services.store


def _keywords(services: ServicesDep) -> RedisKeywordIndex:
    return services.keywords


def _catalog(services: ServicesDep) -> RedisCatalog:
    return services.catalog


def _queue(services: ServicesDep) -> IngestQueue:
    return services.queue


def _embedder(services: ServicesDep) -> Embedder:
    return services.embedder.get()


def _retriever(services: ServicesDep) -> Retriever:
    settings = services.settings
    return Retriever(
        embedder=services.embedder.get,
        store=services.store,
        keywords=services.keywords,
        fusion=Fusion.configured(settings),
        reranker=services.reranker.get if services.reranker else None,
        reranking=Reranking.configured(settings),
        on_degraded=search_degraded,
    )


def _generator(services: ServicesDep) -> Generator:
    return services.generator


def _feedback(services: ServicesDep) -> RedisFeedbackLog:
    return services.feedback


def _principal(request: Request) -> Principal:
    """The caller, as ``security.Guard`` identified it (with no keys configured: ``OPEN``)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # the guard did not run: refuse rather than assume
        raise Unauthorized("the caller was not identified")
    return principal


EmbedderDep = Annotated[Embedder, Depends(_embedder)]
RetrieverDep = Annotated[Retriever, Depends(_retriever)]
GeneratorDep = Annotated[Generator, Depends(_generator)]
SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ChromaStore, Depends(_store)]
KeywordsDep = Annotated[RedisKeywordIndex, Depends(_keywords)]
CatalogDep = Annotated[RedisCatalog, Depends(_catalog)]
QueueDep = Annotated[IngestQueue, Depends(_queue)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
FeedbackDep = Annotated[RedisFeedbackLog, Depends(_feedback)]
