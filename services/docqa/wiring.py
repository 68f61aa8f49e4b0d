"""Builds the service's parts from ``Settings``, for the API and the worker alike: the one place
that knows which adapter serves which port.

``services(settings)`` makes the ``Services`` container (``docqa.parts``), whose fields are
typed by the ports (``core/ports``): what the API's routes and the worker's jobs use, and all
they use. The API builds it in its lifespan, the worker once at start
(``worker.jobs.preload``); a test builds one from fakes (``tests/support/fakes.py``) and hands it
in (``create_app(settings, services=...)``, ``worker.jobs.use(...)``). ``retriever`` and
``chunker`` make the paths' workers from it.

Every Redis client is ``adapters._redis.client`` (bounded waits), and RQ gets a client of its
own: a worker raises the socket timeout of the connection it is given (to its dequeue timeout
plus 10 s), which must not reach the catalog's. The models are built on first use
(``LazyEmbedder``, ``LazyReranker``): a TEI server may still be starting, and a local model
takes seconds to load; until one can be built its callers get ``Unavailable`` (503), and keyword
search, which needs no model, keeps working. Model code (sentence-transformers, torch) is
imported only when a local model is chosen, so the API image needs no torch.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from redis import Redis

from docqa.adapters import _redis
from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.checks import RedisCheckRuns
from docqa.adapters.chroma import ChromaStore
from docqa.adapters.feedback import RedisFeedbackLog
from docqa.adapters.keyword import RedisKeywordIndex
from docqa.adapters.openai import OpenAIGenerator
from docqa.adapters.queue import IngestQueue
from docqa.adapters.queue import drop_payload as drop_payload  # the worker's, see below
from docqa.adapters.queue import load_payload as load_payload
from docqa.adapters.request_counter import RedisRequestCounter
from docqa.core.config import Settings
from docqa.core.errors import Unavailable
from docqa.core.metrics import (
    MeteredEmbedder,
    MeteredGenerator,
    search_degraded,
    tokenizer_fallback,
)
from docqa.core.ports import (
    Embedder,
    Generator,
    ListedCatalog,
    ListedKeywords,
    ListedStore,
    PayloadQueue,
    Reranker,
    VectorStore,
)
from docqa.ingest.consistency import Stores
from docqa.ingest.indexing import Chunker
from docqa.parts import LazyEmbedder, LazyReranker, Services
from docqa.search.fusion import Fusion
from docqa.search.retrieval import Reranking, Retriever

# The worker runs RQ itself and takes from here the queue (``IngestQueue``), a job's documents
# stored beside it (``load_payload``, ``drop_payload``) and what a lost Redis raises, waited out.
REDIS_OUTAGES = _redis.OUTAGES


def services(
    settings: Settings, *, owner: str = "api", queue: IngestQueue | None = None
) -> Services:
    """Every part, typed by its port. ``owner`` names the process in the catalog's document
    locks (a worker's name, so its successor frees them); ``queue`` is the worker's, whose RQ
    client its ``SimpleWorker`` uses (by default one is made, on a client of its own)."""
    closing = AsyncExitStack()
    redis = redis_client(settings)
    closing.callback(redis.close)
    if queue is None:
        queue = ingest_queue(settings, rq_client(settings))
        closing.callback(queue.queue.connection.close)
    http = httpx.AsyncClient(timeout=settings.generator_timeout_s)
    closing.push_async_callback(http.aclose)
    return Services(
        settings=settings,
        store=chroma_store(settings),
        keywords=keyword_index(settings),
        catalog=catalog(redis, owner, queue),
        queue=queue,
        feedback=RedisFeedbackLog(redis),
        embedder=LazyEmbedder(lambda: embedder(settings)),
        generator=generator(settings, http),
        reranker=None if settings.reranker == "none" else LazyReranker(lambda: _reranker(settings)),
        counter=RedisRequestCounter(redis),
        checks=RedisCheckRuns(queue.queue),
        closing=closing,
    )


def retriever(services: Services) -> Retriever:
    """Search as configured (fusion, reranking) over the services' store and keyword index."""
    settings, reranker = services.settings, services.reranker
    return Retriever(
        embedder=lambda: services.embedder,
        store=services.store,
        keywords=services.keywords,
        fusion=Fusion.configured(settings),
        reranker=(lambda: reranker) if reranker is not None else None,
        reranking=Reranking.configured(settings),
        on_degraded=search_degraded,
    )


def chunker(services: Services) -> Chunker:
    """``chunker_of`` the services' embedder, settings and store."""
    return chunker_of(services.embedder, services.settings, services.store)


def chunker_of(embedder: Embedder, settings: Settings, store: VectorStore | None = None) -> Chunker:
    """Chunks of the configured size and overlap, capped by what the embedder takes (the
    overlap at a quarter of it); copies read their chunks from ``store``, and their context
    prefixes are cut to fit the embedder's input."""
    spec = embedder.spec
    return Chunker(
        tokenizer=embedder,
        max_tokens=min(settings.chunk_tokens, spec.max_input_tokens),
        overlap=min(settings.chunk_overlap, spec.max_input_tokens // 4),
        store=store,
        limit=spec.max_input_tokens,
    )


def check_stores(services: Services) -> Stores:
    """What ``docqa check`` reads, from the services' own parts: each must list itself whole
    (the adapters do, and so do the listed fakes); ``Unavailable`` names one that does not."""
    store, keywords, catalog, queue = (
        services.store,
        services.keywords,
        services.catalog,
        services.queue,
    )
    if not isinstance(store, ListedStore):
        raise Unavailable("the vector store cannot list its chunks", service="chroma")
    if not isinstance(keywords, ListedKeywords):
        raise Unavailable("the keyword index cannot list its chunks", service="keyword-redis")
    if not isinstance(catalog, ListedCatalog):
        raise Unavailable("the catalog cannot list its collections", service="redis")
    if not isinstance(queue, PayloadQueue):
        raise Unavailable("the queue cannot read a job's documents", service="redis")
    return Stores(catalog=catalog, store=store, keywords=keywords, queue=queue)


def redis_client(settings: Settings) -> Redis:
    return _redis.client(str(settings.redis_url))  # connect and socket timeouts


def rq_client(settings: Settings) -> Redis:
    """RQ's own client (see above): the ingest queue's, never the catalog's."""
    return _redis.client(str(settings.redis_url))


def chroma_store(settings: Settings) -> ChromaStore:
    return ChromaStore(
        str(settings.chroma_url),
        hnsw=settings.chroma_hnsw,
        upsert_batch=settings.chroma_upsert_batch,
    )


def keyword_index(settings: Settings) -> RedisKeywordIndex:
    """The keyword index, in its own Redis (``DOCQA_KEYWORD_REDIS_URL``)."""
    return RedisKeywordIndex.from_url(str(settings.keyword_redis_url))


def catalog(redis: Redis, owner: str = "api", queue: IngestQueue | None = None) -> RedisCatalog:
    return RedisCatalog(redis, owner, queue)


def generator(settings: Settings, http: httpx.AsyncClient) -> Generator:
    """The OpenAI-compatible generator on ``http``, its calls measured (``MeteredGenerator``)."""
    return MeteredGenerator(OpenAIGenerator.from_settings(settings, http), settings.generator_mode)


def ingest_queue(settings: Settings, redis: Redis) -> IngestQueue:
    return IngestQueue(
        redis,
        settings.queue_name,
        timeout_s=settings.job_timeout_s,
        retries=settings.job_retries,
        intervals_s=settings.job_retry_intervals_s,
    )


def embedder(settings: Settings) -> Embedder:
    """The configured embedder, its calls measured (``MeteredEmbedder``)."""
    return MeteredEmbedder(_embedder(settings))


def _embedder(settings: Settings) -> Embedder:
    if settings.embedder == "tei":
        from docqa.adapters.tei import TeiEmbedder

        return TeiEmbedder(
            _http(str(settings.tei_url), settings.tei_api_key),
            tokenizer_path=tei_tokenizer_path(settings),
            on_fallback=tokenizer_fallback,
        )
    from docqa.adapters.local_embedder import LocalEmbedder

    return LocalEmbedder(settings.local_model_path)


def tei_tokenizer_path(settings: Settings) -> Path | None:
    """The TEI model's ``tokenizer.json``: the configured file, else the one fetched from the
    Hub for ``tei_tokenizer_repo`` (None, logged and counted, when that fails), else None."""
    if settings.tei_tokenizer_path is not None or not settings.tei_tokenizer_repo:
        return settings.tei_tokenizer_path
    from docqa.adapters.tokenizer_fetch import fetch_tokenizer

    return fetch_tokenizer(settings.tei_tokenizer_repo, on_fallback=tokenizer_fallback)


def reranker(settings: Settings) -> Reranker | None:
    """The configured reranker; None when reranking is off."""
    if settings.reranker == "none":
        return None
    return _reranker(settings)


def _reranker(settings: Settings) -> Reranker:
    if settings.reranker == "tei":
        from docqa.adapters.tei_reranker import TeiReranker

        return TeiReranker(_http(str(settings.reranker_url), settings.reranker_api_key))
    if settings.reranker_model_path is None:
        raise Unavailable(
            "DOCQA_RERANKER=local needs DOCQA_RERANKER_MODEL_PATH (a CrossEncoder directory)",
            service="local-reranker",
        )
    from docqa.adapters.local_reranker import LocalReranker

    return LocalReranker(settings.reranker_model_path)


def _http(base_url: str, api_key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60.0)
