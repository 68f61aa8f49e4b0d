"""Metrics (Prometheus) and structured logs (one JSON object a line), for the API and the worker.

A request id follows a document from the API into its ingest job: the API takes it from the
``X-Request-ID`` header (or makes one), keeps it in ``request_id`` (a contextvar) while it
serves the request, stores it in the job's meta; the worker sets it again while it runs that
job. Every log line says the request id in force.

Embedder and generator calls are measured by wrapping the port (``MeteredEmbedder``,
``MeteredGenerator``), whichever adapter serves it, in the process that makes the call.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import aclosing, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from docqa.models import EmbeddingSpec, Generation, Prompt
from docqa.ports import Embedder, Generator, TokenSpans

# --- Request ids ---

request_id: ContextVar[str | None] = ContextVar("docqa_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """A caller's id, if it is a sane one (printable ASCII, at most 128 characters)."""
    if not value or len(value) > 128 or not value.isascii() or not value.isprintable():
        return None
    return value


@contextmanager
def request_context(value: str | None) -> Iterator[None]:
    """``request_id`` is ``value`` inside the block."""
    token = request_id.set(value)
    try:
        yield
    finally:
        request_id.reset(token)


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
    logging.getLogger("docqa.retrieval").warning(
        "search answered without %s: %s", part, error, extra={"left_out": part}
    )


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


# --- Logs ---

# What every LogRecord has; anything else on a record is an ``extra`` and goes in the line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, then any extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _stamp_request_ids() -> None:
    """Every new LogRecord gets ``request_id`` when it is made (in the thread, task and context
    that logged), whenever and wherever a handler formats it."""
    make = logging.getLogRecordFactory()
    if getattr(make, "_docqa", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = make(*args, **kwargs)
        if getattr(made, "request_id", None) is None:
            made.request_id = request_id.get()
        return made

    factory._docqa = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: str | int = "INFO") -> None:
    """JSON lines on stderr from the root logger; uvicorn's loggers go through it too.

    Idempotent: only a handler this function installed is replaced, others (pytest's) stay.
    """
    _stamp_request_ids()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_docqa", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._docqa = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The middleware logs each request (with its id and route); uvicorn's line would repeat it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every outgoing request at INFO: hundreds of lines per ingest job (a /tokenize
    # call per section), most of the worker's log. Kept for DEBUG.
    logging.getLogger("httpx").setLevel(
        logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    )
