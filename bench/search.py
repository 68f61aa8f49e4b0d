"""Search latency: questions through ``POST /search`` one after another, beside the raw cost
(the question embedded in this process, then Chroma queried directly)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from bench.results import Result, percentiles
from docqa.ports import Embedder

NAME = "search"
TOP_K = 5


def measure(
    api: httpx.Client,
    questions: Sequence[str],
    collection: str,
    embedder: Embedder | None,
    chroma_url: str | None,
) -> Result:
    result = Result(NAME, params={"questions": len(questions), "top_k": TOP_K})
    body = {"collection": collection, "top_k": TOP_K}
    api.post("/search", json={**body, "question": questions[0]}).raise_for_status()  # warm-up
    service_ms: list[float] = []
    hits: list[int] = []
    for question in questions:
        started = time.perf_counter()
        response = api.post("/search", json={**body, "question": question})
        service_ms.append((time.perf_counter() - started) * 1000)
        hits.append(len(response.raise_for_status().json()["hits"]))
    result.samples["service_ms"] = service_ms
    result.params["mean_hits"] = sum(hits) / len(hits)

    raw_ms = raw_latencies(questions, collection, embedder, chroma_url)
    if raw_ms is None:
        result.notes.append("no raw reference: needs the local embedder and the Chroma URL")
    else:
        result.samples["raw_ms"] = raw_ms
    service, raw = percentiles(service_ms), percentiles(raw_ms) if raw_ms else None
    result.add("p50", service[50], "ms", raw[50] if raw else None)
    result.add("p95", service[95], "ms", raw[95] if raw else None)
    return result


def raw_latencies(
    questions: Sequence[str], collection: str, embedder: Embedder | None, chroma_url: str | None
) -> list[float] | None:
    """Milliseconds per question: embed in process + ``ChromaStore.query``."""
    if embedder is None or chroma_url is None:
        return None
    from docqa.adapters.chroma import ChromaStore

    store = ChromaStore(chroma_url)
    store.query(collection, embedder.embed([questions[0]])[0], TOP_K)  # warm-up
    out: list[float] = []
    for question in questions:
        started = time.perf_counter()
        store.query(collection, embedder.embed([question])[0], TOP_K)
        out.append((time.perf_counter() - started) * 1000)
    return out
