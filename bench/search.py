"""Search latency under concurrency: ``POST /search`` from 1, 8 and 32 client threads over a
collection of ``--search-chunks`` chunks (20k by default), beside the raw cost measured in the
same run (the question embedded in this process, then ``ChromaStore.query`` directly, one at a
time).

Building the collection: embedding 20k chunk texts on a 2-core CPU takes ~15 min, so only the
corpus paragraphs (~200) get real vectors from the service's own model; the rest are *filler*:
synthetic texts with random unit vectors of the model's dimension. They are upserted straight
into Chroma through ``ChromaStore.ensure_collection`` + ``upsert`` with the model's
``EmbeddingSpec``, so the service accepts the collection as its own. HNSW search cost depends
on the number of vectors and their dimension, not on what they mean; the hits returned for a
question still come from the real paragraphs.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from bench.corpus import Corpus, synthetic
from bench.results import Result, percentiles
from docqa.ports import Embedder

NAME = "search"
TOP_K = 5
CONCURRENCY = (1, 8, 32)
POINTS = (50, 95, 99)


def unit_vectors(count: int, dimension: int, seed: int = 0) -> list[list[float]]:
    """``count`` random vectors of length 1 (Gaussian directions: uniform on the sphere)."""
    rng = random.Random(seed)
    out: list[list[float]] = []
    for _ in range(count):
        vector = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
        norm = sum(x * x for x in vector) ** 0.5 or 1.0
        out.append([x / norm for x in vector])
    return out


def requests_per_level(questions: int, concurrency: int) -> int:
    """Enough requests that every client sends several and the percentiles have samples."""
    return max(2 * questions, 4 * concurrency)


@dataclass(frozen=True)
class Level:
    concurrency: int
    latencies_ms: list[float]
    elapsed_s: float

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0


def run_concurrent(call: Callable[[int], None], requests: int, concurrency: int) -> Level:
    """``requests`` calls of ``call(n)`` spread over ``concurrency`` threads; each call's
    latency in ms, and the wall time of the whole level."""
    lock = threading.Lock()
    counter = iter(range(requests))
    latencies: list[float] = []
    errors: list[BaseException] = []

    def client() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None or errors:
                return
            started = time.perf_counter()
            try:
                call(n)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)
                return
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return Level(concurrency, latencies, time.perf_counter() - started)


def build_collection(
    chroma_url: str, collection: str, corpus: Corpus, embedder: Embedder, chunks: int
) -> tuple[int, int]:
    """Fill ``collection`` with the corpus paragraphs (real vectors) plus filler up to
    ``chunks``; returns (real, filler) counts."""
    from docqa.adapters.chroma import ChromaStore
    from docqa.models import Chunk

    store = ChromaStore(chroma_url)
    spec = embedder.spec
    store.ensure_collection(collection, spec)
    real = corpus.paragraphs[:chunks]
    vectors = embedder.embed([p.text for p in real])
    store.upsert(collection, [Chunk(p.id, 0, p.text, {"title": p.title}) for p in real], vectors)
    filler = max(0, chunks - len(real))
    step = 5000
    for start in range(0, filler, step):
        count = min(step, filler - start)
        texts = synthetic(count, seed=start + 1).paragraphs
        store.upsert(
            collection,
            [Chunk(f"filler-{start + n}", 0, p.text) for n, p in enumerate(texts)],
            unit_vectors(count, spec.dimension, seed=start + 1),
        )
    return len(real), filler


def measure(
    api: httpx.Client,
    questions: Sequence[str],
    corpus: Corpus,
    collection: str,
    embedder: Embedder | None,
    chroma_url: str | None,
    chunks: int,
    concurrency: Sequence[int] = CONCURRENCY,
) -> Result:
    result = Result(NAME, params={"questions": len(questions), "top_k": TOP_K})
    if embedder is None or chroma_url is None:
        result.notes.append("skipped: needs the local embedder and the Chroma URL")
        return result
    started = time.perf_counter()
    real, filler = build_collection(chroma_url, collection, corpus, embedder, chunks)
    result.params.update(
        collection=collection,
        chunks=real + filler,
        real_chunks=real,
        filler_chunks=filler,
        build_s=round(time.perf_counter() - started, 1),
    )
    result.notes.append(
        f"{real} real paragraphs + {filler} filler chunks (random unit vectors: HNSW cost "
        "depends on count and dimension, not content)"
    )
    body = {"collection": collection, "top_k": TOP_K}
    hits: list[int] = []

    def search(n: int) -> None:
        question = questions[n % len(questions)]
        response = api.post("/search", json={**body, "question": question})
        hits.append(len(response.raise_for_status().json()["hits"]))

    search(0)  # warm-up
    result.params["settle_s"] = round(settle(collection, questions[0], embedder, chroma_url), 1)
    raw_ms = raw_latencies(questions, collection, embedder, chroma_url)
    result.samples["raw_ms"] = raw_ms
    raw = percentiles(raw_ms, POINTS)
    for level in concurrency:
        done = run_concurrent(search, requests_per_level(len(questions), level), level)
        result.samples[f"service_ms_c{level}"] = done.latencies_ms
        service = percentiles(done.latencies_ms, POINTS)
        for point in POINTS:
            result.add(
                f"c={level} p{point}", service[point], "ms", raw[point] if level == 1 else None
            )
        result.add(
            f"c={level} throughput",
            done.requests_per_s,
            "req/s",
            1000 / raw[50] if level == 1 else None,
        )
    result.params["mean_hits"] = sum(hits) / len(hits)
    result.notes.append("raw = in-process embed + ChromaStore.query, one at a time (c=1 rows)")
    return result


def settle(
    collection: str, question: str, embedder: Embedder, chroma_url: str, limit_s: float = 120
) -> float:
    """Wait until Chroma has indexed a fresh bulk load: right after the upserts it serves
    queries several times slower while it builds its index in the background. Repeats batches
    of 5 direct queries until a batch's median is within 20% of the one before (or
    ``limit_s``); returns the seconds spent."""
    from docqa.adapters.chroma import ChromaStore

    store = ChromaStore(chroma_url)
    vector = embedder.embed([question])[0]
    started = time.perf_counter()
    previous = float("inf")
    while time.perf_counter() - started < limit_s:
        batch = []
        for _ in range(5):
            began = time.perf_counter()
            store.query(collection, vector, TOP_K)
            batch.append(time.perf_counter() - began)
        median = sorted(batch)[2]
        if median >= previous * 0.8:
            break
        previous = median
        time.sleep(1)
    return time.perf_counter() - started


def raw_latencies(
    questions: Sequence[str], collection: str, embedder: Embedder, chroma_url: str
) -> list[float]:
    """Milliseconds per question: embed in process + ``ChromaStore.query``."""
    from docqa.adapters.chroma import ChromaStore

    store = ChromaStore(chroma_url)
    store.query(collection, embedder.embed([questions[0]])[0], TOP_K)  # warm-up
    out: list[float] = []
    for question in questions:
        started = time.perf_counter()
        store.query(collection, embedder.embed([question])[0], TOP_K)
        out.append((time.perf_counter() - started) * 1000)
    return out
