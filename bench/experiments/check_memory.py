"""`docqa check` at size: its wall time and peak RSS on one collection grown to each of
``--sizes`` chunks, then a few damaged chunks at the largest size, each of which it must find
(issue 24: it "streams through 1M-chunk collections in bounded memory with a progress bar").

    nice -n 19 .venv/bin/python -m bench.experiments.check_memory \\
        --sizes 10000,50000,200000 --json build/check-memory.json

Real servers, started as the local stack starts them (``Stack.start_servers``, no generator,
no API or worker): the queue's Redis, the keyword index's Redis with the search module, and
``chroma run``. The collection is filled directly through docqa's own adapters, bypassing the
embedder (this measures the check, not ingest): per document of ``CHUNKS`` chunks of ~30
words, an ``indexed`` catalog record with ``chunks=CHUNKS``, the chunks upserted to Chroma with
random unit vectors of ``SPEC``'s dimension, and to the keyword index.

At each size ``docqa check --collection C --json`` runs in a subprocess (this interpreter, the
stack's environment) with its stderr on a pseudo-terminal, so that its progress bars are drawn
as a user sees them; its peak RSS is the kernel's ``ru_maxrss`` of that child (``os.wait4``).
At ``--damage-at`` (default: the largest size), before its check, the collection is damaged
(``damage``: 12 differences of 6 kinds), and the check then and at each larger size must find
exactly those, exit status 1 (before: none, exit status 0); the exit status is 1 otherwise.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docqa.adapters import _redis
from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.chroma import ChromaStore
from docqa.adapters.keyword import RedisKeywordIndex
from docqa.core.models import Chunk, DocumentRecord, EmbeddingSpec
from docqa.stack.local import Stack

COLLECTION = "check-at-size"
CHUNKS = 10  # per document
TAIL = 1 << 20  # bytes of the terminal's output kept (a bar redraws itself per page)
COLUMNS = 100  # the pseudo-terminal's width (tqdm draws no bar at 0 columns)
BATCH = 100  # documents per write (1,000 chunks: one Chroma upsert request)
SPEC = EmbeddingSpec("sentence-transformers/all-MiniLM-L6-v2", 384, True, 256)
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "theta",
    "kappa",
    "lambda",
    "sigma",
    "omega",
    "river",
    "stone",
]


@dataclass
class Stores:
    catalog: RedisCatalog
    store: ChromaStore
    keywords: RedisKeywordIndex


def document_id(n: int) -> str:
    return f"doc-{n:07d}"


def chunk(document: str, position: int) -> Chunk:
    """The same chunk each time it is asked for (its id depends on its text)."""
    digest = hashlib.sha256(f"{document}:{position}".encode()).digest()
    words = [WORDS[byte % len(WORDS)] for byte in digest[:30]]
    return Chunk(document, position, f"{document} part {position}: " + " ".join(words))


def write(stores: Stores, chunks: list[Chunk], rng: np.random.Generator) -> None:
    """``chunks`` into both stores, each with a random unit vector."""
    vectors = rng.standard_normal((len(chunks), SPEC.dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    stores.store.upsert(COLLECTION, chunks, vectors.tolist())
    stores.keywords.upsert(COLLECTION, chunks)


def fill(stores: Stores, first: int, end: int, rng: np.random.Generator) -> None:
    """Documents ``first..end-1``, indexed, in all three stores."""
    for start in range(first, end, BATCH):
        ids = [document_id(n) for n in range(start, min(start + BATCH, end))]
        write(stores, [chunk(d, p) for d in ids for p in range(CHUNKS)], rng)
        stores.catalog.put(
            [
                DocumentRecord(
                    id=d,
                    collection=COLLECTION,
                    title=None,
                    metadata={},
                    source="text",
                    content_hash=hashlib.sha256(d.encode()).hexdigest(),
                    status="indexed",
                    job_id=None,
                    chunks=CHUNKS,
                )
                for d in ids
            ]
        )


def damage(stores: Stores, documents: int, rng: np.random.Generator) -> Counter[str]:
    """Put 12 differences into the collection; returns how many of each kind ``docqa check``
    must report: a chunk deleted from Chroma (3 documents), from the keyword index (3 others),
    an extra chunk past the catalog's count in both stores (1), a document the catalog does not
    have, of one chunk, in both stores (2: one chunk each, so one page holds it)."""
    picked = [document_id(documents * k // 8) for k in range(1, 8)]
    stores.store.delete(COLLECTION, [chunk(d, 3).id for d in picked[:3]])
    stores.keywords.delete(COLLECTION, [chunk(d, 3).id for d in picked[3:6]])
    write(stores, [chunk(picked[6], CHUNKS)], rng)
    write(stores, [chunk(f"ghost-{n}", 0) for n in range(2)], rng)
    return Counter(
        missing_vectors=3,
        missing_keywords=3,
        superseded_vectors=1,
        superseded_keywords=1,
        orphan_vectors=2,
        orphan_keywords=2,
    )


def run_check(env: dict[str, str]) -> dict[str, Any]:
    """``docqa check --collection C --json`` in a subprocess, its stderr a pseudo-terminal:
    wall time, peak RSS, exit status, its summary and the last state of each progress bar."""
    command = [sys.executable, "-m", "docqa.cli.main", "check", "--collection", COLLECTION]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
    drawn = bytearray()

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            drawn.extend(data)
            del drawn[:-TAIL]  # enough for the final bars

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen([*command, "--json"], env=env, stdout=out, stderr=slave)
        os.close(slave)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join(timeout=5)
        os.close(master)
        out.seek(0)
        lines = [json.loads(line) for line in out.read().decode().splitlines() if line.strip()]
    summary = lines[-1].get("summary", {}) if lines else {}
    return {
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "exit": proc.returncode,
        "summary": summary,
        "progress": final_bars(drawn.decode(errors="replace")),
    }


def final_bars(drawn: str) -> list[str]:
    """The last drawing of each line the terminal showed (a bar redraws itself after ``\\r``)."""
    lines = (line.split("\r") for line in drawn.replace("\x1b[A", "\n").split("\n"))
    last = [next((p.strip() for p in reversed(parts) if p.strip()), "") for parts in lines]
    return [line for line in last if line][-6:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,50000,200000", help="chunks, ascending")
    parser.add_argument("--damage-at", type=int, help="damage after this size (default: the last)")
    parser.add_argument("--json", type=Path, default=Path("build/check-memory.json"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    rows: list[dict[str, Any]] = []
    args.json.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="check-memory-") as scratch:
        stack = Stack(Path(scratch), generator=False, quiet=True)
        stack.start_servers()
        try:
            env = stack.env
            stores = Stores(
                RedisCatalog(_redis.client(env["DOCQA_REDIS_URL"])),
                ChromaStore(env["DOCQA_CHROMA_URL"]),
                RedisKeywordIndex.from_url(env["DOCQA_KEYWORD_REDIS_URL"]),
            )
            stores.store.ensure_collection(COLLECTION, SPEC)
            documents = 0
            expected: Counter[str] = Counter()
            for size in sizes:
                started = time.perf_counter()
                fill(stores, documents, size // CHUNKS, rng)
                rate = (size // CHUNKS - documents) * CHUNKS / (time.perf_counter() - started)
                documents = size // CHUNKS
                if size == (args.damage_at or sizes[-1]):
                    expected = damage(stores, documents, rng)
                row = {"chunks": size, "documents": documents, "load_before": os.getloadavg()}
                row |= run_check(env) | {"load_after": os.getloadavg()}
                row |= {"fill_chunks_per_s": round(rate, 1), "expected": dict(expected)}
                row["as_expected"] = agrees(row, expected)
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "summary"}), flush=True)
                args.json.write_text(json.dumps({"sizes": rows}, indent=1))
        finally:
            stack.stop()
    return 0 if all(row["as_expected"] for row in rows) else 1


def agrees(row: dict[str, Any], expected: Counter[str]) -> bool:
    """The check found exactly the differences ``expected``, and exited 1 if any, else 0."""
    found = {kind: n for kind, n in row["summary"].get("found", {}).items() if n}
    return found == dict(expected) and row["exit"] == (1 if expected else 0)


if __name__ == "__main__":
    sys.exit(main())
