"""Metrics (Prometheus), for the API and the worker.

Embedder and generator calls are measured by wrapping the port (``MeteredEmbedder``,
``MeteredGenerator``), whichever adapter serves it, in the process that makes the call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

from prometheus_client import Counter, Gauge, Histogram

from docqa.core.models import EmbeddingSpec, Generation, Prompt
from docqa.core.ports import Embedder, Generator, TokenSpans

# --- Metrics (the process's default registry) ---

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

HTTP_DURATION = Histogram(
    "docqa_http_request_duration_seconds",
    "HTTP request latency, by route template, method and status",
    ["route", "method", "status"],
    buckets=_SECONDS,
)
INGEST_JOBS = Gauge("docqa_ingest_jobs", "Ingest jobs in each RQ state (at scrape time)", ["state"])
QUEUE_DEPTH = Gauge("docqa_ingest_queue_depth", "Ingest jobs waiting on the queue")
EMBED_BATCH_SIZE = Histogram(
    "docqa_embedding_batch_size",
    "Texts in one embed call",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
WRITE_ROWS = Histogram(
    "docqa_ingest_write_rows",
    "Chunks in one vector-store write of the indexing pipeline",
    buckets=(1, 8, 32, 64, 128, 256, 384, 512, 768, 1024),
)
EMBED_DURATION = Histogram(
    "docqa_embedding_duration_seconds", "Latency of one embed call", ["outcome"], buckets=_SECONDS
)
GENERATION_DURATION = Histogram(
    "docqa_generation_duration_seconds",
    "Latency of one generation (a stream: until its last piece)",
    ["mode", "outcome"],
    buckets=_SECONDS,
)
GENERATION_TOKENS = Counter(
    "docqa_generation_tokens", "Tokens the generator reported", ["kind"]
)  # exposed as docqa_generation_tokens_total
SEARCH_DEGRADED = Counter(
    "docqa_search_degraded", "Searches answered without a part that was out", ["left_out"]
)  # exposed as docqa_search_degraded_total


def search_degraded(part: str, error: Exception) -> None:
    """A search answered without ``part`` (``keyword``: its Redis was out): counted, logged."""
    SEARCH_DEGRADED.labels(left_out=part).inc()
    logging.getLogger("docqa.search.retrieval").warning(
        "search answered without %s: %s", part, error, extra={"left_out": part}
    )


TOKENIZER_FALLBACKS = Counter(
    "docqa_tokenizer_fallbacks",
    "Times a configured in-process tokenizer was not used and TEI's /tokenize was instead",
    ["reason"],
)  # exposed as docqa_tokenizer_fallbacks_total; reason: unfetched, unloadable, disagrees, unchecked


def tokenizer_fallback(reason: str, detail: str) -> None:
    """The TEI embedder tokenizes through ``/tokenize`` after all (the adapter logs why)."""
    TOKENIZER_FALLBACKS.labels(reason=reason).inc()


INGEST_JOB_DURATION = Histogram(
    "docqa_ingest_job_duration_seconds",
    "How long an ingest job ran in the worker",
    ["outcome"],
    buckets=_SECONDS,
)


class MeteredEmbedder:
    """An ``Embedder`` that records each embed call's batch size and latency."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    @property
    def spec(self) -> EmbeddingSpec:
        return self.inner.spec

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        EMBED_BATCH_SIZE.observe(len(texts))
        started = time.perf_counter()
        outcome = "error"
        try:
            vectors = self.inner.embed(texts)
            outcome = "ok"
            return vectors
        finally:
            EMBED_DURATION.labels(outcome).observe(time.perf_counter() - started)

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        return self.inner.token_spans(texts)

    @property
    def additive(self) -> bool:
        return self.inner.additive

    def check(self) -> None:
        self.inner.check()


class MeteredGenerator:
    """A ``Generator`` that records each generation's latency and the tokens it reported."""

    def __init__(self, inner: Generator, mode: str = "unknown") -> None:
        self.inner = inner
        self.mode = mode

    async def context_window(self) -> int:
        return await self.inner.context_window()

    async def count_tokens(self, text: str) -> int:
        return await self.inner.count_tokens(text)

    async def check(self) -> None:
        await self.inner.check()

    def _record(self, started: float, outcome: str, generation: Generation | None) -> None:
        GENERATION_DURATION.labels(self.mode, outcome).observe(time.perf_counter() - started)
        if generation is not None and generation.usage is not None:
            GENERATION_TOKENS.labels("prompt").inc(generation.usage.prompt_tokens)
            GENERATION_TOKENS.labels("completion").inc(generation.usage.completion_tokens)

    async def generate(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> Generation:
        started = time.perf_counter()
        try:
            generation = await self.inner.generate(
                prompt, max_tokens=max_tokens, temperature=temperature
            )
        except BaseException:
            self._record(started, "error", None)
            raise
        self._record(started, "ok", generation)
        return generation

    async def stream(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[str | Generation, None]:
        started = time.perf_counter()
        outcome, final = "error", None
        pieces = self.inner.stream(prompt, max_tokens=max_tokens, temperature=temperature)
        try:
            async with aclosing(pieces):
                async for item in pieces:
                    if isinstance(item, Generation):
                        outcome, final = "ok", item
                    yield item
        except GeneratorExit:
            outcome = "closed"  # the caller stopped early
            raise
        finally:
            self._record(started, outcome, final)
