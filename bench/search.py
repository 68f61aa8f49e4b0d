"""Search latency under concurrency: ``POST /search`` in the service's default mode (hybrid)
and in keyword mode (BM25 alone, the keyword index's own cost) from 1, 8 and 32 client threads
over a collection of ``--search-chunks`` chunks (20k by default), and in dense mode from one
client, each beside the raw cost measured in the same run: the same ``Retriever`` (the
service's own fusion settings) called in this process over the same Chroma collection and
keyword index, one question at a time.

Building the collection: embedding 20k chunk texts on a 2-core CPU takes ~15 min, so only the
corpus paragraphs (~200) get real vectors from the service's own model; the rest are *filler*:
real text (SQuAD train paragraphs when the file is there) with random unit vectors of the
model's dimension. They are upserted straight into Chroma (``ChromaStore.ensure_collection`` +
``upsert`` with the model's ``EmbeddingSpec``, so the service accepts the collection as its
own) and into the stack's keyword index. HNSW search cost depends on the number of vectors and
their dimension, not on what they mean; BM25's depends on the text, hence real filler text.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from bench.corpus import DEFAULT_SQUAD, Corpus, load_squad, synthetic
from bench.results import Result, percentiles
from docqa.core.ports import Embedder
from docqa.search.fusion import Fusion
from docqa.search.retrieval import Mode, Retriever

NAME = "search"
TRAIN_SQUAD = DEFAULT_SQUAD.with_name("train-v1.1-part.json")  # filler text, never dev
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
    chroma_url: str,
    keyword_url: str | None,
    collection: str,
    corpus: Corpus,
    embedder: Embedder,
    chunks: int,
) -> tuple[int, int]:
    """Fill ``collection`` (Chroma, and the keyword index when its Redis is known) with the
    corpus paragraphs (real vectors) plus filler up to ``chunks``; returns (real, filler)."""
    from docqa.adapters.chroma import ChromaStore
    from docqa.adapters.keyword import RedisKeywordIndex
    from docqa.core.models import Chunk

    store = ChromaStore(chroma_url)
    keywords = RedisKeywordIndex.from_url(keyword_url) if keyword_url else None
    spec = embedder.spec
    store.ensure_collection(collection, spec)
    real = corpus.paragraphs[:chunks]
    rows = [Chunk(p.id, 0, p.text, {"title": p.title}) for p in real]
    if keywords:
        keywords.upsert(collection, rows)
    store.upsert(collection, rows, embedder.embed([p.text for p in real]))
    filler = max(0, chunks - len(real))
    texts = filler_texts(filler)
    step = 5000
    for start in range(0, filler, step):
        count = min(step, filler - start)
        rows = [Chunk(f"filler-{start + n}", 0, texts[start + n]) for n in range(count)]
        if keywords:
            keywords.upsert(collection, rows)
        store.upsert(collection, rows, unit_vectors(count, spec.dimension, seed=start + 1))
    return len(real), filler


def filler_texts(count: int) -> list[str]:
    """``count`` paragraph texts: SQuAD train's (cycled) when the file is there, else
    synthetic."""
    found = count and TRAIN_SQUAD.is_file()
    texts = [p.text for p in load_squad(TRAIN_SQUAD, count).paragraphs] if found else []
    if not texts:
        return [p.text for p in synthetic(count, seed=1).paragraphs]
    return [texts[n % len(texts)] for n in range(count)]


def measure(
    api: httpx.Client,
    questions: Sequence[str],
    corpus: Corpus,
    collection: str,
    embedder: Embedder | None,
    chroma_url: str | None,
    chunks: int,
    keyword_url: str | None = None,
    concurrency: Sequence[int] = CONCURRENCY,
) -> Result:
    result = Result(NAME, params={"questions": len(questions), "top_k": TOP_K})
    if embedder is None or chroma_url is None:
        result.notes.append("skipped: needs the local embedder and the Chroma URL")
        return result
    started = time.perf_counter()
    real, filler = build_collection(chroma_url, keyword_url, collection, corpus, embedder, chunks)
    result.params.update(
        collection=collection,
        chunks=real + filler,
        real_chunks=real,
        filler_chunks=filler,
        build_s=round(time.perf_counter() - started, 1),
    )
    result.notes.append(
        f"{real} real paragraphs + {filler} filler chunks (real text, random unit vectors: "
        "HNSW cost depends on count and dimension, not content)"
    )
    result.params["settle_s"] = round(settle(collection, questions[0], embedder, chroma_url), 1)
    retriever = raw_retriever(embedder, chroma_url, keyword_url)
    modes: list[tuple[Mode, Sequence[int]]] = [
        ("hybrid", concurrency),
        ("keyword", concurrency),
        ("dense", (1,)),
    ]
    if keyword_url is None:
        result.notes.append(
            "hybrid and keyword skipped: the keyword index's Redis is known on a private stack"
        )
        modes = [("dense", concurrency)]
    hits: list[int] = []
    for mode, levels in modes:
        body = {"collection": collection, "top_k": TOP_K, "mode": mode}

        def search(n: int, body: dict[str, object] = body) -> None:
            question = questions[n % len(questions)]
            response = api.post("/search", json={**body, "question": question})
            hits.append(len(response.raise_for_status().json()["hits"]))

        search(0)  # warm-up
        raw_ms = raw_latencies(questions, collection, retriever, mode)
        result.samples[f"raw_{mode}_ms"] = raw_ms
        raw = percentiles(raw_ms, POINTS)
        for level in levels:
            done = run_concurrent(search, requests_per_level(len(questions), level), level)
            result.samples[f"service_{mode}_ms_c{level}"] = done.latencies_ms
            service = percentiles(done.latencies_ms, POINTS)
            first = level == 1
            for point in POINTS:
                result.add(
                    f"{mode} c={level} p{point}",
                    service[point],
                    "ms",
                    raw[point] if first else None,
                )
            result.add(
                f"{mode} c={level} throughput",
                done.requests_per_s,
                "req/s",
                1000 / raw[50] if first else None,
            )
    result.params["mean_hits"] = sum(hits) / len(hits)
    result.notes.append(
        "raw = docqa's Retriever in this process (embed, Chroma query; keyword: BM25 alone; "
        "hybrid: both and the service's fusion settings), one question at a time (c=1 rows)"
    )
    return result


def raw_retriever(embedder: Embedder, chroma_url: str, keyword_url: str | None) -> Retriever:
    """The service's retrieval code with the service's fusion settings, in this process."""
    from docqa.adapters.chroma import ChromaStore
    from docqa.adapters.keyword import RedisKeywordIndex
    from docqa.core.config import Settings

    keywords = RedisKeywordIndex.from_url(keyword_url or str(Settings().keyword_redis_url))
    fusion = Fusion.configured(Settings())
    return Retriever(lambda: embedder, ChromaStore(chroma_url), keywords, fusion)


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
    questions: Sequence[str], collection: str, retriever: Retriever, mode: Mode
) -> list[float]:
    """Milliseconds per question: ``Retriever.retrieve`` in this process."""
    retriever.retrieve(questions[0], collection, top_k=TOP_K, mode=mode)  # warm-up
    out: list[float] = []
    for question in questions:
        started = time.perf_counter()
        retriever.retrieve(question, collection, top_k=TOP_K, mode=mode)
        out.append((time.perf_counter() - started) * 1000)
    return out
