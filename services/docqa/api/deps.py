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
from docqa.adapters.openai import OpenAIGenerator
from docqa.adapters.queue import IngestQueue
from docqa.config import Settings
from docqa.errors import DocqaError, Unavailable
from docqa.ports import Embedder


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
    generator: OpenAIGenerator


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


def _generator(services: ServicesDep) -> OpenAIGenerator:
    return services.generator


EmbedderDep = Annotated[Embedder, Depends(_embedder)]
GeneratorDep = Annotated[OpenAIGenerator, Depends(_generator)]
SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ChromaStore, Depends(_store)]
CatalogDep = Annotated[RedisCatalog, Depends(_catalog)]
QueueDep = Annotated[IngestQueue, Depends(_queue)]
