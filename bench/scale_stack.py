"""What the scale bench (``bench/scale.py``) does to its stack beside ingesting: reads its
processes (CPU seconds, RSS, disk), measures the raw references in scratch collections, and
profiles the worker.

Raw references: ``raw_rates`` upserts chunk-sized texts with their stub vectors (computed
beforehand, in this process) into a scratch collection of the same Chroma, in batches of
``RAW_BATCH``, then the same rows into a scratch keyword index; both are deleted afterwards.
The scratch collection starts empty, so the Chroma rate is an upper bound for a large one;
``raw_upsert_same_size`` upserts the same rows into the grown collection itself, then deletes
them, the reference at the collection's size.

Profile: for one stretch the stack's worker is swapped for the same worker under ``cProfile``
(py-spy cannot read this Python's version from the process), and docqa's functions where its
time went are kept, as shares of the time spent in ingest jobs. The swap happens with the
queue drained (after a checkpoint): the worker's warm shutdown (SIGTERM) finishes no job
half-way, and the profiled worker, of the same name, takes the queue over; afterwards a plain
worker replaces it again. ``cProfile`` sees the main thread, where RQ's
``SimpleWorker`` runs the jobs.
"""

from __future__ import annotations

import os
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.memory import rss_kib
from bench.scale_figures import cpu_seconds
from docqa.stack.local import Stack
from docqa.stack.processes import terminate

if TYPE_CHECKING:
    from docqa.adapters.chroma import ChromaStore
    from docqa.core.models import Chunk

RAW_BATCH = 1000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

PROFILED = (
    "import cProfile, sys\n"
    "from docqa.worker.main import main\n"
    "cProfile.run('main()', sys.argv[1])\n"
)
TOP = 20


def cpu_s(pid: int) -> float:
    """The process's CPU seconds so far; 0 once it has gone (its exit code tells)."""
    try:
        return cpu_seconds(Path(f"/proc/{pid}/stat").read_text(), CLOCK_TICKS)
    except OSError:
        return 0.0


def rss_mib(pid: int) -> float | None:
    try:
        return (rss_kib(Path(f"/proc/{pid}/status").read_text()) or 0) / 1024
    except OSError:
        return None


def du_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def stub_vectors(texts: Sequence[str]) -> list[list[float]]:
    """The TEI stub's vector of each text, as the pipeline's chunks get theirs."""
    from bench.tei_stub import embed

    return [embed(text) for text in texts]


def raw_rates(
    stack: Stack, like: str, scratch: str, texts: Sequence[str], vectors: Sequence[list[float]]
) -> tuple[float, float]:
    """Chunks/s at which the stack's Chroma takes ``texts`` with their ``vectors`` through
    ``upsert`` (in a collection of ``like``'s embedding spec), and its keyword index the same
    rows; both scratch collections are deleted afterwards."""
    from docqa.adapters.chroma import PREFIX, ChromaStore, connect
    from docqa.adapters.keyword import RedisKeywordIndex
    from docqa.core.models import Chunk

    rows = [Chunk(f"raw-{n}", n, text) for n, text in enumerate(texts)]
    url = f"http://127.0.0.1:{stack.chroma_port}"
    store = ChromaStore(url)
    spec = store.collection_spec(like)
    if spec is None:
        raise RuntimeError(f"no collection {like!r} to copy the embedding spec of")
    store.ensure_collection(scratch, spec)
    keywords = RedisKeywordIndex.from_url(f"redis://127.0.0.1:{stack.keyword_redis_port}/0")
    try:
        chroma = _upsert_rate(store, scratch, rows, vectors)
        started = time.perf_counter()
        keywords.upsert(scratch, rows)
        keyword = len(rows) / (time.perf_counter() - started)
    finally:
        connect(url).delete_collection(PREFIX + scratch)
        keywords.drop(scratch)
    return chroma, keyword


def raw_upsert_same_size(
    stack: Stack, collection: str, texts: Sequence[str], vectors: Sequence[list[float]], tag: str
) -> float:
    """Chunks/s at which the stack's Chroma takes ``texts`` with their ``vectors`` through
    ``upsert`` into ``collection`` itself, at the size it has grown to (ids of a document of
    their own, ``tag``); deleted again afterwards, so the collection holds the pipeline's
    chunks alone. The reference the empty scratch collection overstates: Chroma's cost per row
    grows with its index."""
    from docqa.adapters.chroma import ChromaStore
    from docqa.core.models import Chunk

    rows = [Chunk(f"raw-same-{tag}", n, text) for n, text in enumerate(texts)]
    store = ChromaStore(f"http://127.0.0.1:{stack.chroma_port}")
    try:
        return _upsert_rate(store, collection, rows, vectors)
    finally:
        for start in range(0, len(rows), RAW_BATCH):
            store.delete(collection, [row.id for row in rows[start : start + RAW_BATCH]])


def _upsert_rate(
    store: ChromaStore, collection: str, rows: Sequence[Chunk], vectors: Sequence[list[float]]
) -> float:
    """Chunks/s of upserting ``rows`` with ``vectors`` into ``collection``, ``RAW_BATCH`` a
    request."""
    started = time.perf_counter()
    for start in range(0, len(rows), RAW_BATCH):
        end = start + RAW_BATCH
        store.upsert(collection, rows[start:end], vectors[start:end])
    return len(rows) / (time.perf_counter() - started)


def summary(path: Path, top: int = TOP) -> list[dict[str, Any]]:
    """The ``top`` functions by cumulative time, each with its share of the time under the
    ingest job (``docqa/worker/jobs.py`` ``ingest``)."""
    stats = pstats.Stats(str(path))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = [
        (f"{Path(file).name}:{line}({name})", calls, total, cumulative, file)
        for (file, line, name), (_, calls, total, cumulative, _) in table.items()
    ]
    job = max(
        (r[3] for r in rows if r[4].endswith("worker/jobs.py") and r[0].endswith("(ingest)")),
        default=0.0,
    )
    wanted = [r for r in rows if "/docqa/" in r[4]]  # docqa's own functions, adapters included
    wanted.sort(key=lambda r: -r[3])
    return [
        {
            "function": where,
            "calls": calls,
            "own_s": round(total, 2),
            "cumulative_s": round(cumulative, 2),
            "share_of_jobs": round(cumulative / job, 3) if job else None,
        }
        for where, calls, total, cumulative, _ in wanted[:top]
    ]


def profiled_stretch(stack: Stack, out: Path, grow: Callable[[], object]) -> list[dict[str, Any]]:
    """Run ``grow()`` with the worker under ``cProfile``; the plain worker is back afterwards.
    Returns ``summary`` of the profile (written to ``out``)."""
    terminate(stack.procs["worker"], timeout_s=60)
    stack._spawn("worker", [sys.executable, "-c", PROFILED, str(out)])
    try:
        grow()
    finally:
        terminate(stack.procs["worker"], timeout_s=120)  # warm shutdown writes the profile
        stack.start_worker()
    return summary(out) if out.is_file() else []
