"""Worker memory: the embedding worker's peak RSS while ingesting N chunks, for each N of
``--memory-chunks`` (default 1000,4000; the issue's sizes are ``--memory-chunks 10000,100000``,
about 7 min and 1 h of CPU embedding on 2 cores). If ingestion streams, the peak stays nearly
flat as N grows; the growth per 1k chunks shows it.

The documents are synthetic paragraphs of ~120 tokens (one chunk each at the default chunk
size), posted in requests of ``BATCH`` documents, all enqueued before waiting, into a fresh
collection per size. RSS is read from ``/proc/<pid>/status`` (``VmRSS``) every 50 ms; the peak
of a size is the highest sample while its jobs run. Needs the private stack (its worker's pid).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.corpus import synthetic
from bench.results import Result
from bench.target import post_documents, submit_documents, wait_for_job

NAME = "memory"
BATCH = 500
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


def measure(
    api: httpx.Client, collection: str, worker_pid: int | None, sizes: Sequence[int]
) -> Result:
    result = Result(NAME, params={"sizes": list(sizes), "batch": BATCH})
    if worker_pid is None:
        result.notes.append("skipped: needs the private stack (the worker's pid)")
        return result
    # Warm the worker first, so the first size does not carry the model's one-time costs.
    warmup = synthetic(1, seed=0).paragraphs[0].as_document()
    post_documents(api, f"{collection}-memwarm", [warmup], timeout_s=300)
    points: list[tuple[int, float]] = []
    for size in sizes:
        target = f"{collection}-mem{size}"
        documents = [
            {**p.as_document(), "id": f"mem{size}-{n}"}
            for n, p in enumerate(synthetic(size, seed=size).paragraphs)
        ]
        sampler = Sampler(worker_pid)
        before = sampler.read_mib()
        started = time.perf_counter()
        with sampler:
            jobs = [
                submit_documents(api, target, documents[start : start + BATCH])
                for start in range(0, len(documents), BATCH)
            ]
            chunks = 0
            for job_id in jobs:
                if job_id is None:
                    continue
                job = wait_for_job(api, job_id, timeout_s=600 + size, poll_s=0.5)
                if job["state"] != "finished":
                    raise RuntimeError(f"ingest job {job_id} failed: {job.get('error')}")
                chunks += int(job["progress"]["total"])
        elapsed = time.perf_counter() - started
        points.append((chunks, sampler.peak_mib))
        result.samples[f"rss_mib_{size}"] = [before, sampler.peak_mib]
        result.add(f"{size} docs ({chunks} chunks): peak RSS", sampler.peak_mib, "MiB")
        result.add(f"{size} docs: RSS before", before, "MiB")
        result.add(f"{size} docs: chunks/s", chunks / elapsed, "1/s")
    result.add("peak RSS growth per 1k chunks", growth_per_1k(points), "MiB")
    return result
