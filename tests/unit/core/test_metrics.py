"""Metrics: the metered ports, and the request middleware's ids, latency and log line."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from docqa.api.app import create_app
from docqa.api.middleware import RequestMetrics
from docqa.core import logs
from docqa.core.errors import Unavailable
from docqa.core.logs import JsonFormatter
from docqa.core.metrics import MeteredEmbedder, MeteredGenerator
from docqa.core.models import Generation, Prompt
from docqa.core.ports import Embedder, Generator
from support.fakes import FakeEmbedder, ScriptedGenerator


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_metered_embedder_records_batch_sizes_and_latency() -> None:
    fake = FakeEmbedder()
    metered: Embedder = MeteredEmbedder(fake)
    batches = sample("docqa_embedding_batch_size_count")
    sizes = sample("docqa_embedding_batch_size_sum")
    ok = sample("docqa_embedding_duration_seconds_count", outcome="ok")
    errors = sample("docqa_embedding_duration_seconds_count", outcome="error")

    assert metered.embed(["a", "b", "c"]) == [fake.vector(text) for text in "abc"]
    fake.down = "refused"
    with pytest.raises(Unavailable):
        metered.embed(["d"])

    assert sample("docqa_embedding_batch_size_count") == batches + 2
    assert sample("docqa_embedding_batch_size_sum") == sizes + 4
    assert sample("docqa_embedding_duration_seconds_count", outcome="ok") == ok + 1
    assert sample("docqa_embedding_duration_seconds_count", outcome="error") == errors + 1
    assert metered.spec == fake.spec
    assert metered.token_spans(["ab cd"]) == [[(0, 2), (3, 5)]]


PROMPT = Prompt(messages=(), text="Q: ?\nA:")


def test_the_metered_generator_records_latency_and_tokens() -> None:
    metered: Generator = MeteredGenerator(ScriptedGenerator("yes sir"), "completion")
    done = sample("docqa_generation_duration_seconds_count", mode="completion", outcome="ok")
    prompt = sample("docqa_generation_tokens_total", kind="prompt")
    completion = sample("docqa_generation_tokens_total", kind="completion")

    async def run() -> list[str | Generation]:
        await metered.generate(PROMPT, max_tokens=8)
        return [item async for item in metered.stream(PROMPT, max_tokens=8)]

    items = asyncio.run(run())
    assert items[:2] == ["yes ", "sir"] and isinstance(items[2], Generation)
    ok = sample("docqa_generation_duration_seconds_count", mode="completion", outcome="ok")
    assert ok == done + 2
    # the fake counts words: 3 in the prompt, 2 in the answer; generated, then streamed
    assert sample("docqa_generation_tokens_total", kind="prompt") == prompt + 3 + 3
    assert sample("docqa_generation_tokens_total", kind="completion") == completion + 2 + 2


def test_a_stream_closed_early_is_recorded_as_closed() -> None:
    metered = MeteredGenerator(ScriptedGenerator("yes sir"), "chat")
    closed = sample("docqa_generation_duration_seconds_count", mode="chat", outcome="closed")

    async def run() -> None:
        pieces = metered.stream(PROMPT, max_tokens=8)
        assert await anext(pieces) == "yes "
        await pieces.aclose()

    asyncio.run(run())
    after = sample("docqa_generation_duration_seconds_count", mode="chat", outcome="closed")
    assert after == closed + 1


def small_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: str) -> dict[str, str | None]:  # sync: runs in a thread
        logging.getLogger("docqa.test").info("serving %s", item_id)
        return {"request_id": logs.request_id.get()}

    app.add_middleware(RequestMetrics)
    return app


def test_the_middleware_echoes_or_makes_a_request_id_seen_by_the_route() -> None:
    client = TestClient(small_app())
    given = client.get("/items/1", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    assert given.json() == {"request_id": "abc-123"}

    made = client.get("/items/2")
    assert len(made.headers["x-request-id"]) == 32
    assert made.json() == {"request_id": made.headers["x-request-id"]}
    assert logs.request_id.get() is None


def test_requests_are_measured_by_route_template(caplog: pytest.LogCaptureFixture) -> None:
    logs.configure_logging("INFO")  # records get the request id when they are made
    client = TestClient(small_app())
    labels = {"route": "/items/{item_id}", "method": "GET", "status": "200"}
    before = sample("docqa_http_request_duration_seconds_count", **labels)
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    missing = sample("docqa_http_request_duration_seconds_count", **unmatched)
    with caplog.at_level(logging.INFO):
        started = time.perf_counter()
        client.get("/items/a", headers={"X-Request-ID": "log-me"})
        elapsed_ms = (time.perf_counter() - started) * 1000
        client.get("/items/b")
        client.get("/nowhere/at/all")
    assert sample("docqa_http_request_duration_seconds_count", **labels) == before + 2
    assert sample("docqa_http_request_duration_seconds_count", **unmatched) == missing + 1
    lines = [r for r in caplog.records if r.name == "docqa.api.requests"]
    first = lines[0].__dict__
    assert first["route"] == "/items/{item_id}" and first["status"] == 200
    assert first["path"] == "/items/a" and 0 < first["duration_ms"] <= elapsed_ms
    route_logs = [r for r in caplog.records if r.name == "docqa.test"]
    assert JsonFormatter().format(route_logs[0]).count('"request_id": "log-me"') == 1


def test_the_app_serves_health_with_an_id_and_declares_metrics() -> None:
    app = create_app()
    response = TestClient(app).get("/healthz", headers={"X-Request-ID": "probe"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "probe"
    operation = app.openapi()["paths"]["/metrics"]["get"]
    assert operation["operationId"] == "metrics"
    assert "text/plain; version=0.0.4" in operation["responses"]["200"]["content"]
