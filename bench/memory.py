"""Worker memory: the embedding worker's peak RSS while ingesting N chunks, for each N of
``--memory-chunks`` (default 1000,4000; the issue's sizes are ``--memory-chunks 10000,100000``).
If ingestion streams, the peak stays nearly flat as N grows; the growth per 1k chunks shows it.

The embedder is the TEI stub (``bench/tei_stub/``: TEI's HTTP protocol, hashed bag-of-words
vectors of 384 dimensions, a word tokenizer), not the local MiniLM: this measures the worker's
own memory (documents, chunks, batches, the Redis and Chroma clients) rather than torch's, and
embeds at HTTP speed, so 10k and 100k chunks take minutes instead of an hour of CPU. The worker
runs the real TEI adapter (``DOCQA_EMBEDDER=tei``) on a private stack of its own, without the
generator; the figures are not comparable with the local-model worker's (~700 MiB at rest).

The documents are ``PARAGRAPHS`` synthetic paragraphs each (~1,700 words, ~11 chunks at the
default chunk size; the warm-up document's chunk count sets how many documents make a size),
posted in requests of ``BATCH`` documents (one ingest job each, ~1,100 chunks), all enqueued
before waiting, into a fresh collection per size. The peak of a size is the kernel's high-water
mark (``VmHWM``, reset before each size through ``/proc/<pid>/clear_refs``) or, where that
cannot be reset, the highest ``VmRSS`` sampled every 50 ms while its jobs run. Needs the private
stack (the worker's pid), so it is skipped with ``--base-url``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.corpus import synthetic
from bench.results import Result
from bench.target import post_documents, submit_documents, wait_for_job

NAME = "memory"
PARAGRAPHS = 20  # per document: ~1,700 words, ~11 chunks at the default chunk size
BATCH = 100  # documents per request (~1.3 MB of text, one ingest job)
DEFAULT_SIZES = (1000, 4000)


def rss_kib(status_text: str, field: str = "VmRSS") -> int | None:
    """A ``/proc/<pid>/status`` field in KiB (``VmRSS``, ``VmHWM``), None when absent."""
    for line in status_text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def growth_per_1k(points: Sequence[tuple[int, float]]) -> float | None:
    """MiB of peak RSS per 1000 chunks between the smallest and the largest size."""
    if len(points) < 2:
        return None
    (n0, m0), (n1, m1) = min(points), max(points)
    return (m1 - m0) / (n1 - n0) * 1000 if n1 != n0 else None


class Sampler:
    """Polls a process's VmRSS in a thread; ``peak_mib`` is the highest since ``start``."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self._path = Path(f"/proc/{pid}/status")
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_kib = 0

    def read_mib(self) -> float:
        return (rss_kib(self._path.read_text()) or 0) / 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_kib = max(self.peak_kib, rss_kib(self._path.read_text()) or 0)
            except OSError:
                return
            self._stop.wait(self._interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


def reset_peak(pid: int) -> bool:
    """Reset the process's ``VmHWM`` to its current RSS (Linux ``clear_refs`` 5); False where
    that is not allowed or not supported."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_mib(pid: int) -> float | None:
    """The process's ``VmHWM`` in MiB."""
    try:
        found = rss_kib(Path(f"/proc/{pid}/status").read_text(), "VmHWM")
    except OSError:
        return None
    return found / 1024 if found is not None else None


def run(base_url: str | None, collection: str, sizes: Sequence[int]) -> Result:
    """``measure`` on a private stack whose worker embeds through the TEI stub."""
    if base_url:
        result = Result(NAME, params={"sizes": list(sizes), "batch": BATCH})
        result.notes.append("skipped: needs the private stack (the worker's pid), not --base-url")
        return result
    from bench.target import open_target
    from bench.tei_stub import TeiStub

    with TeiStub() as tei:
        env = {"DOCQA_EMBEDDER": "tei", "DOCQA_TEI_URL": tei.url}
        with (
            open_target(None, None, extra_env=env, generator=False) as target,
            httpx.Client(base_url=target.base_url, timeout=600) as api,
        ):
            result = measure(api, collection, target.worker_pid, sizes)
        result.params["embedded_by_stub"] = tei.counters()["embedded"]
    result.notes.append(
        "embedder: the TEI stub over HTTP (hashed bag of words), so the figures are the "
        "worker's own memory, without a model's"
    )
    return result


def documents(count: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    """``count`` documents of ``PARAGRAPHS`` synthetic paragraphs each (blank-line separated)."""
    paragraphs = synthetic(count * PARAGRAPHS, seed=seed).paragraphs
    return [
        {
            "id": f"{prefix}-{n}",
            "title": f"Memory {prefix} {n}",
            "text": "\n\n".join(p.text for p in paragraphs[n * PARAGRAPHS : (n + 1) * PARAGRAPHS]),
        }
        for n in range(count)
    ]


def measure(
    api: httpx.Client, collection: str, worker_pid: int | None, sizes: Sequence[int]
) -> Result:
    result = Result(NAME, params={"sizes": list(sizes), "batch": BATCH, "paragraphs": PARAGRAPHS})
    if worker_pid is None:
        result.notes.append("skipped: needs the private stack (the worker's pid)")
        return result
    # Warm the worker first, so the first size does not carry one-time costs; the warm-up
    # document's chunk count tells how many documents make each size.
    warm = post_documents(api, f"{collection}-memwarm", documents(1, 0, "warm"), timeout_s=300)
    per_document = int(warm.job["progress"]["total"]) if warm.job else 1
    result.params["chunks_per_document"] = per_document
    points: list[tuple[int, float]] = []
    exact = True
    for size in sizes:
        target = f"{collection}-mem{size}"
        count = max(1, round(size / per_document))
        sampler = Sampler(worker_pid)
        before = sampler.read_mib()
        exact = reset_peak(worker_pid) and exact
        started = time.perf_counter()
        with sampler:
            jobs = [
                submit_documents(
                    api, target, documents(min(BATCH, count - start), size + start, f"m{start}")
                )
                for start in range(0, count, BATCH)
            ]
            chunks = 0
            for job_id in jobs:
                if job_id is None:
                    continue
                job = wait_for_job(api, job_id, timeout_s=600 + size / 10, poll_s=0.5)
                if job["state"] != "finished":
                    raise RuntimeError(f"ingest job {job_id} failed: {job.get('error')}")
                chunks += int(job["progress"]["total"])
        elapsed = time.perf_counter() - started
        peak = max(sampler.peak_mib, (peak_mib(worker_pid) or 0.0) if exact else 0.0)
        after = sampler.read_mib()
        points.append((chunks, peak))
        result.samples[f"rss_mib_{size}"] = [before, peak, after]
        result.add(f"{chunks} chunks ({count} docs): peak RSS", peak, "MiB")
        result.add(f"{chunks} chunks: RSS before", before, "MiB")
        result.add(f"{chunks} chunks: RSS after", after, "MiB")
        result.add(f"{chunks} chunks: chunks/s", chunks / elapsed, "1/s")
    result.params["peak"] = "VmHWM" if exact else "sampled VmRSS"
    result.add("peak RSS growth per 1k chunks", growth_per_1k(points), "MiB")
    return result
