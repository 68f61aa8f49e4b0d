"""Measures the write stage's gathering (``indexing.WRITE_ROWS``) where it matters: an embedder
far ahead of Chroma, as TEI on a GPU is. Side by side in one process and run: ``gathered``
(the shipped ``WRITE_ROWS``, 512) and ``one batch`` (``WRITE_ROWS`` 1: each embedded batch
written alone, as before gathering), in turns, each into a fresh collection of the same private
Chroma and Redis pair (``Stack.start_servers``).

The worker's real parts (``wiring.services``: Chroma's HTTP client, the RediSearch keyword
index, the Redis catalog, the packaged MiniLM's tokenizer for chunking) index the scale bench's
documents (``scale_figures.Prose``, seed 0); only ``embed`` is replaced, by one that answers at
once with a unit vector drawn from each text's hash, so the pipeline's pace is set by the
writes. Reported per run: chunks/s, Chroma's CPU ms per chunk (its server process, from
``/proc``), this process's CPU ms per chunk, and the rows per Chroma write.

    .venv/bin/python -m bench.experiments.write_gathering --documents 400 --rounds 5 \
        --json docs/eval/write-gathering.json
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

VARIANTS = {"gathered": None, "one batch": 1}  # WRITE_ROWS; None: the shipped value


class InstantEmbedder:
    """The real embedder's spec and tokenizer; ``embed`` answers at once (a GPU far ahead)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            vector = np.random.default_rng(seed).standard_normal(self.inner.spec.dimension)
            out.append((vector / np.linalg.norm(vector)).tolist())
        return out


def documents(count: int) -> list[dict[str, Any]]:
    from bench.corpus import load_squad
    from bench.scale_figures import Prose, sentences
    from bench.search import TRAIN_SQUAD

    squad = load_squad(TRAIN_SQUAD, 10**6)
    return Prose(sentences(p.text for p in squad.paragraphs)).documents(count)


def one_run(services: Any, chroma_pid: int, docs: list[dict[str, Any]], collection: str) -> dict:
    from bench.scale_stack import cpu_s
    from docqa import wiring
    from docqa.core.models import DocumentRecord, PendingDocument, content_hash
    from docqa.ingest.indexing import index_documents

    sizes: list[int] = []
    upsert = services.store.upsert

    def sized(collection: str, chunks: Sequence[Any], vectors: Sequence[Any]) -> None:
        sizes.append(len(chunks))
        upsert(collection, chunks, vectors)

    services.store.upsert = sized
    pending = [
        PendingDocument(
            collection, d["id"], content_hash(d["text"]), data=d["text"], title=d["title"]
        )
        for d in docs
    ]
    services.catalog.put(
        [
            DocumentRecord(d.id, d.collection, d.title, {}, "text", d.content_hash, "queued", "j")
            for d in pending
        ]
    )
    chroma_before, cpu_before, started = cpu_s(chroma_pid), time.process_time(), time.perf_counter()
    report = index_documents(
        pending,
        embedder=services.embedder,
        store=services.store,
        keywords=services.keywords,
        catalog=services.catalog,
        chunker=wiring.chunker(services),
        progress=lambda done, total: None,
    )
    wall = time.perf_counter() - started
    cpu, chroma = time.process_time() - cpu_before, cpu_s(chroma_pid) - chroma_before
    services.store.upsert = upsert
    chunks = sum(report.indexed.values())
    return {
        "chunks": chunks,
        "wall_s": round(wall, 2),
        "chunks_per_s": round(chunks / wall, 1),
        "chroma_cpu_ms_per_chunk": round(1000 * chroma / chunks, 3),
        "process_cpu_ms_per_chunk": round(1000 * cpu / chunks, 3),
        "writes": len(sizes),
        "rows_per_write": round(sum(sizes) / max(1, len(sizes)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=400, help="documents per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the runs here")
    args = parser.parse_args()

    from docqa import wiring
    from docqa.core.config import Settings
    from docqa.ingest import indexing
    from docqa.stack.local import Stack

    docs = documents(args.documents)
    shipped = indexing.WRITE_ROWS
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="write-gathering-") as tmp:
        stack = Stack(Path(tmp) / "stack", generator=False, quiet=True)
        stack.start_servers()
        try:
            os.environ.update(stack.env)
            services = wiring.services(Settings(), owner="write-gathering")
            services = dataclasses.replace(services, embedder=InstantEmbedder(services.embedder))
            for round_ in range(args.rounds):
                for name, rows in VARIANTS.items():
                    indexing.WRITE_ROWS = rows or shipped
                    collection = f"{name.replace(' ', '-')}-{round_}"
                    found = one_run(services, stack.procs["chroma"].pid, docs, collection)
                    runs[name].append({**found, "load": os.getloadavg()})
                    print(round_, name, runs[name][-1], flush=True)
        finally:
            stack.stop()
    median = {
        name: {key: statistics.median(r[key] for r in found) for key in found[0] if key != "load"}
        for name, found in runs.items()
    }
    ratio = median["gathered"]["chunks_per_s"] / median["one batch"]["chunks_per_s"]
    summary = {"write_rows": shipped, "median": median, "rate_ratio": round(ratio, 3)}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({**summary, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
