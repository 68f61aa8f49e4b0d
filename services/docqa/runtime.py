"""Builds the adapters from ``Settings``: the one place that knows which adapter serves which port.

The API and the worker each call these at start-up. Model code (sentence-transformers, torch)
is imported only when the local embedder is chosen, so the API image needs no torch.
"""

from __future__ import annotations

import httpx
from redis import Redis

from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.chroma import ChromaStore
from docqa.adapters.keyword import SqliteKeywordIndex
from docqa.adapters.queue import IngestQueue
from docqa.config import Settings
from docqa.observability import MeteredEmbedder
from docqa.ports import Embedder


def redis_client(settings: Settings) -> Redis:
    return Redis.from_url(str(settings.redis_url), health_check_interval=30)


def chroma_store(settings: Settings) -> ChromaStore:
    return ChromaStore(str(settings.chroma_url))


def keyword_index(settings: Settings) -> SqliteKeywordIndex:
    return SqliteKeywordIndex(settings.keyword_index_path)


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

        headers = (
            {"Authorization": f"Bearer {settings.tei_api_key}"} if settings.tei_api_key else {}
        )
        client = httpx.Client(base_url=str(settings.tei_url), headers=headers, timeout=60.0)
        return TeiEmbedder(client)
    from docqa.adapters.local_embedder import LocalEmbedder

    return LocalEmbedder(settings.local_model_path)
