"""What routes depend on, made once in the lifespan and handed out with ``Annotated``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from redis import Redis

from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.chroma import ChromaStore
from docqa.adapters.queue import IngestQueue
from docqa.api.security import Principal
from docqa.config import Settings
from docqa.errors import DocqaError, Unauthorized, Unavailable
from docqa.ports import Embedder, Generator


@dataclass
class LazyEmbedder:
    """Builds the embedder on first use: a TEI server may still be starting, and the local
    model takes seconds to load. Until it can be built, callers get ``Unavailable``."""

    build: Callable[[], Embedder]
    _embedder: Embedder | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                try:
                    self._embedder = self.build()
                except DocqaError:
                    raise
                except Exception as exc:
                    raise Unavailable(
                        f"the embedder cannot start: {exc}", service="embedder"
                    ) from exc
            return self._embedder


@dataclass
class Services:
    settings: Settings
    redis: Redis
    store: ChromaStore
    catalog: RedisCatalog
    queue: IngestQueue
    embedder: LazyEmbedder
    generator: Generator


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


def _settings(services: ServicesDep) -> Settings:
    return services.settings


def _store(services: ServicesDep) -> ChromaStore:
    return services.store


def _catalog(services: ServicesDep) -> RedisCatalog:
    return services.catalog


def _queue(services: ServicesDep) -> IngestQueue:
    return services.queue


def _embedder(services: ServicesDep) -> Embedder:
    return services.embedder.get()


def _generator(services: ServicesDep) -> Generator:
    return services.generator


def _principal(request: Request) -> Principal:
    """The caller, as ``security.Guard`` identified it (with no keys configured: ``OPEN``)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # the guard did not run: refuse rather than assume
        raise Unauthorized("the caller was not identified")
    return principal


EmbedderDep = Annotated[Embedder, Depends(_embedder)]
GeneratorDep = Annotated[Generator, Depends(_generator)]
SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ChromaStore, Depends(_store)]
CatalogDep = Annotated[RedisCatalog, Depends(_catalog)]
QueueDep = Annotated[IngestQueue, Depends(_queue)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
