"""What routes depend on: the parts of ``app.state.services`` (a ``Services``, built by
``wiring.services`` in the lifespan or handed to ``create_app``), each typed by its port and
handed out with ``Annotated``: ``catalog: CatalogDep`` in a route's signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from docqa import wiring
from docqa.api.keys import Principal
from docqa.core.config import Settings
from docqa.core.errors import Unauthorized, Unavailable
from docqa.core.ports import (
    Catalog,
    CheckRuns,
    Embedder,
    FeedbackLog,
    Generator,
    JobQueue,
    KeywordIndex,
    VectorStore,
)
from docqa.ingest.indexing import Chunker
from docqa.search.retrieval import Retriever
from docqa.wiring import Services


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


def _settings(services: ServicesDep) -> Settings:
    return services.settings


def _store(services: ServicesDep) -> VectorStore:
    return services.store


def _keywords(services: ServicesDep) -> KeywordIndex:
    return services.keywords


def _catalog(services: ServicesDep) -> Catalog:
    return services.catalog


def _queue(services: ServicesDep) -> JobQueue:
    return services.queue


def _checks(services: ServicesDep) -> CheckRuns:
    if services.checks is None:  # services made without one (a test's)
        raise Unavailable("no check queue is configured", service="redis")
    return services.checks


def _embedder(services: ServicesDep) -> Embedder:
    """The embedder, built on its first use (``Unavailable`` until it can be)."""
    return services.embedder


def _retriever(services: ServicesDep) -> Retriever:
    return wiring.retriever(services)


def _chunker(services: ServicesDep) -> Chunker:
    """Chunking as configured, with the embedder's tokenizer (built on first use)."""
    return wiring.chunker(services)


def _generator(services: ServicesDep) -> Generator:
    return services.generator


def _feedback(services: ServicesDep) -> FeedbackLog:
    return services.feedback


def _principal(request: Request) -> Principal:
    """The caller, as ``security.Guard`` identified it (with no keys configured: ``OPEN``)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # the guard did not run: refuse rather than assume
        raise Unauthorized("the caller was not identified")
    return principal


EmbedderDep = Annotated[Embedder, Depends(_embedder)]
RetrieverDep = Annotated[Retriever, Depends(_retriever)]
ChunkerDep = Annotated[Chunker, Depends(_chunker)]
GeneratorDep = Annotated[Generator, Depends(_generator)]
SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[VectorStore, Depends(_store)]
KeywordsDep = Annotated[KeywordIndex, Depends(_keywords)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
QueueDep = Annotated[JobQueue, Depends(_queue)]
ChecksDep = Annotated[CheckRuns, Depends(_checks)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
FeedbackDep = Annotated[FeedbackLog, Depends(_feedback)]
