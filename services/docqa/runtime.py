"""Builds the adapters from ``Settings``: the one place that knows which adapter serves which port.

The API and the worker each call these at start-up. Model code (sentence-transformers, torch)
is imported only when a local model is chosen, so the API image needs no torch.
"""

from __future__ import annotations

import httpx
from redis import Redis

from docqa.adapters import _redis
from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.chroma import ChromaStore
from docqa.adapters.keyword import RedisKeywordIndex
from docqa.adapters.queue import IngestQueue
from docqa.config import Settings
from docqa.errors import Unavailable
from docqa.observability import MeteredEmbedder
from docqa.ports import Embedder, Reranker


def redis_client(settings: Settings) -> Redis:
    return _redis.client(str(settings.redis_url))  # connect and socket timeouts


def chroma_store(settings: Settings) -> ChromaStore:
    return ChromaStore(str(settings.chroma_url))


def keyword_index(settings: Settings) -> RedisKeywordIndex:
    """The keyword index, in its own Redis (``DOCQA_KEYWORD_REDIS_URL``)."""
    return RedisKeywordIndex.from_url(str(settings.keyword_redis_url))


def catalog(redis: Redis, owner: str = "api") -> RedisCatalog:
    return RedisCatalog(redis, owner)


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

        return TeiEmbedder(_http(str(settings.tei_url), settings.tei_api_key))
    from docqa.adapters.local_embedder import LocalEmbedder

    return LocalEmbedder(settings.local_model_path)


def reranker(settings: Settings) -> Reranker | None:
    """The configured reranker; None when reranking is off."""
    if settings.reranker == "none":
        return None
    if settings.reranker == "tei":
        from docqa.adapters.tei import TeiReranker

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
