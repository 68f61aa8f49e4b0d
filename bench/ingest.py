"""Ingest throughput: N documents in one ``POST /documents``, timed until the job is finished,
beside the raw reference: the texts the worker embedded (each chunk's title and heading path,
then its text) embedded in this process by the same model.

*Efficiency* is end-to-end chunks/s divided by the raw encode rate (1.0 = the service adds
nothing to the model's cost). These machines are noisy (the same encode takes 5 s one minute
and 6.5 s the next), so ``ROUNDS`` rounds each pair a job, into a fresh collection, with the raw
encode right after it, and the figures are those of the round of median efficiency. The *naive
reference* indexes the same texts the way the article's loop does: per row, ``embed([text])``
then one Chroma ``collection.add`` of that one row, into a scratch collection through
``chromadb.HttpClient`` on the stack's Chroma."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

import httpx

from bench.corpus import Corpus
from bench.results import Result
from bench.target import Ingested, post_documents, seconds_between, stored_chunks
from docqa import wiring
from docqa.core.config import Settings
from docqa.core.models import Chunk
from docqa.core.ports import Embedder

NAME = "ingest"
CLIENT_POLL_S = 1.0
ROUNDS = 3  # the machines are noisy: each round pairs a job with a raw encode


def job_timeout_s(documents: int) -> float:
    return 300 + documents  # ~25 documents/s expected on 2 cores; generous


def measure(
    api: httpx.Client,
    corpus: Corpus,
    collection: str,
    embedder: Embedder | None,
    chroma_url: str | None = None,
    rounds: int = ROUNDS,
) -> Result:
    documents = [paragraph.as_document() for paragraph in corpus.paragraphs]
    result = Result(NAME, params={"documents": len(documents), "collection": collection})

    # Warm the worker (its first encode pays one-time costs) in a collection of its own.
    post_documents(api, f"{collection}-warmup", documents[:1], job_timeout_s(1))

    # Rounds of (the job, then the raw encode of its texts), each into a fresh collection (the
    # first is the one later measurements search); the figures are the median round's.
    runs: list[tuple[Ingested, float | None]] = []
    texts: list[str] = []
    for n in range(rounds):
        # polled once a second, as ``docqa ingest`` does: the time taken does not depend on it
        ingested = post_documents(
            api,
            f"{collection}-{n}" if n else collection,
            documents,
            job_timeout_s(len(documents)),
            poll_s=CLIENT_POLL_S,
        )
        if ingested.job is None:
            result.notes.append("every document was already stored: nothing was embedded")
            return result
        if not texts:
            stored = stored_chunks(api, collection, [document["id"] for document in documents])
            texts = embedded_texts(stored, embedder) if embedder else [c.text for c in stored]
        runs.append((ingested, embed_seconds(embedder, texts) if embedder is not None else None))
    if embedder is None:
        result.notes.append("no raw reference: the local embedder could not be loaded")
    ingested, raw_s = median_run(runs)
    assert ingested.job is not None
    chunks = int(ingested.job["progress"]["total"]) or len(texts)
    result.params["chunks"] = chunks
    result.params["rounds"] = [
        {"wall_s": round(run.elapsed_s, 3), "raw_s": raw and round(raw, 3)} for run, raw in runs
    ]

    result.add("wall time, POST to job finished", ingested.elapsed_s, "s", raw_s)
    result.add(
        "documents/s", len(documents) / ingested.elapsed_s, "1/s", _rate(len(documents), raw_s)
    )
    result.add("chunks/s", chunks / ingested.elapsed_s, "1/s", _rate(len(texts), raw_s))
    service_rate = chunks / ingested.elapsed_s
    raw_rate = _rate(len(texts), raw_s)
    result.add("efficiency, chunks/s over raw encode rate", efficiency(service_rate, raw_rate), "x")
    if embedder is not None and chroma_url is not None:
        naive_s = naive_seconds(embedder, texts, chroma_url, f"{collection}-naive")
        naive_rate = len(texts) / naive_s
        result.add(
            "naive reference: chunks/s (1 embed + 1 add per row)", naive_rate, "1/s", raw_rate
        )
        result.add("service speed-up over naive", service_rate / naive_rate, "x")
    else:
        result.notes.append("no naive reference: needs the local embedder and the Chroma URL")
    result.add("worker job run", _seconds(ingested.job, "started_at", "ended_at"), "s")
    result.add("queue wait", _seconds(ingested.job, "enqueued_at", "started_at"), "s")
    return result


def median_run(runs: Sequence[tuple[Ingested, float | None]]) -> tuple[Ingested, float | None]:
    """The round of median efficiency (raw over service seconds), or of median time taken
    without a raw reference; the upper median of an even count."""

    def key(run: tuple[Ingested, float | None]) -> float:
        ingested, raw_s = run
        return raw_s / ingested.elapsed_s if raw_s is not None else -ingested.elapsed_s

    return sorted(runs, key=key)[len(runs) // 2]


def embedded_texts(chunks: list[Chunk], embedder: Embedder) -> list[str]:
    """What the worker embedded for ``chunks``: each one's title and heading path, then its
    text (``Chunker.indexed_texts``, at the default settings); not the bare text, shorter."""
    return wiring.chunker_of(embedder, Settings()).indexed_texts(chunks)


def embed_seconds(embedder: Embedder, texts: list[str]) -> float:
    """Seconds to embed ``texts`` in this process, after one warm-up call."""
    embedder.embed(texts[:2] or ["warm-up"])
    started = time.perf_counter()
    embedder.embed(texts)
    return time.perf_counter() - started


def efficiency(service_rate: float | None, raw_rate: float | None) -> float | None:
    """End-to-end rate over the raw encode rate; None without both."""
    if not service_rate or not raw_rate:
        return None
    return service_rate / raw_rate


def naive_seconds(embedder: Embedder, texts: list[str], chroma_url: str, name: str) -> float:
    """Seconds to index ``texts`` one row at a time: ``embed([text])`` + ``collection.add``
    of that row, into a scratch Chroma collection (deleted afterwards)."""
    from docqa.adapters.chroma import PREFIX, connect

    client = connect(chroma_url)
    scratch = client.get_or_create_collection(
        PREFIX + name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    embedder.embed(texts[:1] or ["warm-up"])
    started = time.perf_counter()
    for n, text in enumerate(texts):
        vector = embedder.embed([text])[0]
        scratch.add(ids=[f"row-{n}"], embeddings=cast(Any, [vector]), documents=[text])
    elapsed = time.perf_counter() - started
    client.delete_collection(PREFIX + name)
    return elapsed


def _rate(count: int, seconds: float | None) -> float | None:
    return count / seconds if seconds else None


def _seconds(job: dict[str, Any], start: str, end: str) -> float | None:
    return seconds_between(job, start, end) if job.get(start) and job.get(end) else None
