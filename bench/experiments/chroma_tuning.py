"""Measures Chroma's upsert rate for the HNSW settings a collection is created with and for the
rows sent per ``upsert`` call, side by side on one ``chroma run`` server (issue 25, item 3).

Each variant gets its own cosine collection, grown to ``--size`` rows first (with its own
settings: HNSW's cost grows with its index), then ``--rounds`` rounds each upsert ``--step``
new rows into every collection, variants in a rotated order per round, so that all meet the
same load. Rows are what the worker writes: a stub vector of the served dimension (the TEI
stub's hashed bag of words, 384 floats), a ~150-word text of SQuAD train and chunk metadata;
every collection gets the same rows in the same order. Per variant: rows/s (the median of its
rounds), the ratio to ``today`` in each round (median of those), and the Chroma server's CPU
milliseconds per row (``/proc``, less sensitive to other load than wall time).

    .venv/bin/python -m bench.experiments.chroma_tuning [--size 30000] [--rounds 4] [--step 2000]
    .venv/bin/python -m bench.experiments.chroma_quality  # dense R@1/R@10 on SQuAD dev
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.experiments.chroma_server import ChromaServer, chroma_server
from bench.scale_stack import cpu_s

TRAIN = Path("/work/shared/data/squad/train-v1.1-part.json")
WORDS, STRIDE = 150, 50  # a row's text: 150 words of train, windows 50 words apart
VECTORS = Path(f"/tmp/chroma-tuning-rows-{WORDS}-{STRIDE}.npz")  # their stub vectors


@dataclass(frozen=True)
class Variant:
    name: str
    hnsw: dict[str, Any] = field(default_factory=dict)
    rows_per_call: int = 1000


# ``today``: the collection docqa creates (only ``space`` set; Chroma's defaults: ef_construction
# 100, max_neighbors 16, ef_search 100, sync_threshold 1000, batch_size 100, num_threads = CPUs)
# with 1,000 rows per call (the scale bench's raw upsert).
VARIANTS: tuple[Variant, ...] = (
    Variant("today"),
    Variant("rows/call 100", rows_per_call=100),
    Variant("rows/call 250", rows_per_call=250),
    Variant("rows/call 500", rows_per_call=500),
    Variant("rows/call 2000", rows_per_call=2000),
    Variant("sync_threshold 10000", {"sync_threshold": 10_000}),
    Variant("sync_threshold 100000", {"sync_threshold": 100_000}),
    Variant("batch_size 1000", {"batch_size": 1000}),
    Variant("num_threads 1", {"num_threads": 1}),
    Variant("construction_ef 50", {"ef_construction": 50}),
    Variant("M 8", {"max_neighbors": 8}),
)


def rows(count: int) -> tuple[list[str], np.ndarray]:
    """``count`` texts (windows of SQuAD train) and their stub vectors, cached in ``VECTORS``."""
    words = " ".join(
        p["context"] for a in json.loads(TRAIN.read_text())["data"] for p in a["paragraphs"]
    ).split()
    texts = [" ".join(words[i : i + WORDS]) for i in range(0, len(words) - WORDS, STRIDE)][:count]
    if len(texts) < count:
        raise SystemExit(f"{TRAIN} gives {len(texts)} rows, fewer than {count}")
    if VECTORS.exists():
        cached = np.load(VECTORS)["vectors"]
        if len(cached) >= count:
            return texts, cached[:count]
    from bench.tei_stub import embed

    vectors = np.array([embed(text) for text in texts], dtype=np.float32)
    np.savez(VECTORS, vectors=vectors)
    return texts, vectors


def upsert(target: Any, texts: Sequence[str], vectors: np.ndarray, start: int, size: int) -> None:
    """Rows ``start``.. ``start + len(texts)`` in calls of ``size``, as ``ChromaStore.upsert``
    writes them (ids, vectors, texts, the chunk metadata of a text document)."""
    for at in range(0, len(texts), size):
        n = range(start + at, start + min(at + size, len(texts)))
        target.upsert(
            ids=[f"row-{i}" for i in n],
            embeddings=vectors[at : at + size].tolist(),
            documents=list(texts[at : at + size]),
            metadatas=[
                {"document_id": f"doc-{i // 8}", "position": i % 8, "source": "text"} for i in n
            ],
        )


def measure(server: ChromaServer, args: argparse.Namespace) -> dict[str, Any]:
    texts, vectors = rows(args.size + args.rounds * args.step)
    collections: dict[str, Any] = {}
    for variant in VARIANTS:
        started = time.perf_counter()
        target = server.collection(f"variant-{len(collections)}", variant.hnsw)
        upsert(target, texts[: args.size], vectors[: args.size], 0, 2000)
        collections[variant.name] = target
        print(f"{variant.name}: grown to {args.size} in {time.perf_counter() - started:.0f} s")
    rates: dict[str, list[float]] = {v.name: [] for v in VARIANTS}
    cpu: dict[str, list[float]] = {v.name: [] for v in VARIANTS}
    for round_ in range(args.rounds):
        start = args.size + round_ * args.step
        part, part_vectors = texts[start : start + args.step], vectors[start : start + args.step]
        shift = round_ % len(VARIANTS)
        for variant in VARIANTS[shift:] + VARIANTS[:shift]:
            cpu_before, began = cpu_s(server.pid), time.perf_counter()
            upsert(collections[variant.name], part, part_vectors, start, variant.rows_per_call)
            rates[variant.name].append(args.step / (time.perf_counter() - began))
            cpu[variant.name].append(1000 * (cpu_s(server.pid) - cpu_before) / args.step)
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in rates.items()))
    base = rates["today"]
    return {
        "size": args.size,
        "step": args.step,
        "rounds": args.rounds,
        "variants": {
            v.name: {
                "hnsw": v.hnsw,
                "rows_per_call": v.rows_per_call,
                "rows_per_s": statistics.median(rates[v.name]),
                "ratio_to_today": statistics.median(
                    r / b for r, b in zip(rates[v.name], base, strict=True)
                ),
                "chroma_cpu_ms_per_row": statistics.median(cpu[v.name]),
                "rows_per_s_by_round": rates[v.name],
            }
            for v in VARIANTS
        },
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        "| variant | rows/s | ratio to today | Chroma CPU ms/row |",
        "| --- | --- | --- | --- |",
    ]
    for name, v in report["variants"].items():
        lines.append(
            f"| {name} | {v['rows_per_s']:.0f} | {v['ratio_to_today']:.2f}x "
            f"| {v['chroma_cpu_ms_per_row']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=30_000, help="rows before measuring")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--step", type=int, default=2000, help="rows per variant per round")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args()
    with chroma_server() as server:
        report = measure(server, args)
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
