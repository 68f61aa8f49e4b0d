"""runtime builds every part, typed by its port, without connecting to anything yet; every
Redis client has bounded waits, and RQ's is never the catalog's."""

from __future__ import annotations

import anyio
from redis import Redis

from docqa import wiring
from docqa.adapters import _redis
from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.queue import IngestQueue
from docqa.adapters.request_counter import RedisRequestCounter
from docqa.core.config import Settings
from docqa.wiring import LazyEmbedder, Services
from support.fakes import FakeEmbedder, fake_services


def timeouts(client: Redis) -> tuple[object, object]:
    kwargs = client.connection_pool.connection_kwargs
    return kwargs.get("socket_connect_timeout"), kwargs.get("socket_timeout")


def test_the_api_and_the_worker_get_one_container_with_rq_on_a_client_of_its_own() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0")  # nothing listens: nothing connects
    services = wiring.services(settings)
    try:
        assert isinstance(services.queue, IngestQueue)
        assert isinstance(services.catalog, RedisCatalog)
        assert isinstance(services.embedder, LazyEmbedder)  # the model loads on first use
        rq = services.queue.queue.connection
        assert isinstance(services.counter, RedisRequestCounter)
        redis = services.catalog._redis
        assert rq is not redis
        expected = (_redis.CONNECT_TIMEOUT_S, _redis.SOCKET_TIMEOUT_S)
        assert timeouts(redis) == timeouts(rq) == expected
        assert services.counter._redis is redis  # the rate limit counts in the catalog's, not RQ's
    finally:
        anyio.run(services.aclose)


def test_a_worker_hands_in_its_queue_and_names_its_locks() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0")
    queue = wiring.ingest_queue(settings, wiring.rq_client(settings))
    services = wiring.services(settings, owner="worker-7", queue=queue)
    try:
        assert services.queue is queue
        assert isinstance(services.catalog, RedisCatalog) and services.catalog._owner == "worker-7"
    finally:
        anyio.run(services.aclose)


def test_chunks_are_capped_by_what_the_embedder_takes() -> None:
    services: Services = fake_services(
        Settings(chunk_tokens=200, chunk_overlap=40), embedder=FakeEmbedder(max_input_tokens=64)
    )
    chunker = wiring.chunker(services)
    assert (chunker.max_tokens, chunker.overlap) == (64, 16)
    assert chunker.limit == 64  # prefixes of copied chunks are cut to the embedder's input
    assert chunker.store is services.store  # where copies are read
    retriever = wiring.retriever(services)
    assert retriever.store is services.store and retriever.keywords is services.keywords
