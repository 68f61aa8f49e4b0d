"""`docqa ingest` of a documentation folder beside the raw encode rate, then `/search` at c=1
over it (issue 16's folder measurement; issue 18's cost figures, before/after the prefix).

Against a running stack at the embedded defaults (started from the code being measured):

    .venv/bin/docqa run --data-dir /tmp/h6-data --port 8160 & S=$!   # until /readyz is ready
    .venv/bin/python -m bench.experiments.docs_ingest --base-url http://127.0.0.1:8160 \\
        --collection docs-h6 --stack-pid $S --json /tmp/docs-ingest.json

1. `docqa ingest PAGES --collection C --no-progress` in a subprocess (this interpreter, this
   environment), timed from start to exit: it exits once every job has ended (polling each
   second). The collection must be new (or the run measures nothing).
2. Raw encode rate: the collection's chunk texts (`GET /documents/{id}/chunks`), embedded in
   this process by the packaged all-MiniLM-L6-v2 (`LocalEmbedder`, batches of 32), after a
   warm-up call; the stack is idle meanwhile.
3. `POST /search` (top_k 5) at c=1: every question of questions.json `--repeats` times in
   each mode (modes interleaved), after one warm-up request per mode; p50/p95 in ms.
The 1-minute load average is recorded before and after each part (the cores may be shared).
With `--stack-pid` (the `docqa run` process), the CPU seconds each of its children (worker,
API, Chroma, the Redis servers) spent during the ingest are recorded too, and the raw encode's
process CPU time: CPU per chunk is far less sensitive than wall time to other load on the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

SET = Path(__file__).resolve().parents[2] / "docs" / "eval" / "docs-set"


def load() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_s(stack_pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system, reaped children included) of each child of ``stack_pid``."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat") if stack_pid else ():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            words = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode().split()
        except OSError:
            continue
        if int(fields[1]) == stack_pid:
            name = " ".join(Path(word).name for word in words[:3])
            out[f"{stat.parent.name} {name}"] = sum(map(int, fields[11:15])) / tick
    return out


def ingest(base_url: str, collection: str, pages: Path, stack_pid: int | None) -> dict[str, Any]:
    docqa = Path(sys.executable).parent / "docqa"
    command = [str(docqa), "ingest", str(pages), "--collection", collection]
    command += ["--base-url", base_url, "--no-progress"]
    before, cpu_before = load(), cpu_s(stack_pid)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"docqa ingest exited {done.returncode}")
    return {
        "command": command,
        "wall_s": wall,
        "summary": done.stdout.strip().splitlines(),
        "stack_cpu_s": {k: v - cpu_before.get(k, 0.0) for k, v in cpu_s(stack_pid).items()},
        "load_before": before,
        "load_after": load(),
    }


def chunk_texts(api: httpx.Client, collection: str) -> tuple[int, list[str]]:
    page = api.get("/documents", params={"collection": collection, "limit": 1000}).json()
    texts: list[str] = []
    for item in page["items"]:
        path = f"/documents/{quote(item['id'], safe='/')}/chunks"
        chunks = api.get(path, params={"collection": collection}).raise_for_status().json()
        texts.extend(chunk["text"] for chunk in chunks)
    return page["total"], texts


def raw_encode(texts: list[str]) -> dict[str, Any]:
    import torch

    from docqa.adapters.local_embedder import LocalEmbedder

    embedder = LocalEmbedder()
    embedder.embed(texts[:2])
    before = load()
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed(texts)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "model": embedder.spec.model_id,
        "torch_threads": torch.get_num_threads(),
        "texts": len(texts),
        "seconds": seconds,
        "chunks_per_s": len(texts) / seconds,
        "cpu_s": cpu,
        "load_before": before,
        "load_after": load(),
    }


def search(
    api: httpx.Client, collection: str, questions: list[str], repeats: int
) -> dict[str, Any]:
    """Modes interleaved (each question asked in every mode in turn), so that a change in the
    machine's load weighs on all three alike."""
    from bench.results import percentiles

    modes = ("dense", "keyword", "hybrid")
    latencies: dict[str, list[float]] = {mode: [] for mode in modes}
    body = {"collection": collection, "top_k": 5}
    for mode in modes:
        api.post("/search", json={**body, "mode": mode, "question": questions[0]})
    before = load()
    for _ in range(repeats):
        for question in questions:
            for mode in modes:
                started = time.perf_counter()
                request = {**body, "mode": mode, "question": question}
                api.post("/search", json=request).raise_for_status()
                latencies[mode].append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"load_before": before, "load_after": load()}
    for mode, samples in latencies.items():
        points = percentiles(samples, (50, 95))
        out[mode] = {"requests": len(samples), "p50_ms": points[50], "p95_ms": points[95]}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description="docqa ingest of a folder, raw encode, /search c=1"
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8160")
    parser.add_argument("--collection", default="docs-h6")
    parser.add_argument("--pages", type=Path, default=SET / "pages")
    parser.add_argument("--questions", type=Path, default=SET / "questions.json")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--stack-pid", type=int, help="`docqa run`'s pid: its children's CPU")
    args = parser.parse_args()
    import docqa

    result: dict[str, Any] = {"docqa": docqa.__file__, "cores": os.cpu_count()}
    result["ingest"] = ingest(args.base_url, args.collection, args.pages, args.stack_pid)
    with httpx.Client(base_url=args.base_url, timeout=120) as api:
        documents, texts = chunk_texts(api, args.collection)
        result["ingest"].update(documents=documents, chunks=len(texts))
        result["ingest"]["chunks_per_s"] = len(texts) / result["ingest"]["wall_s"]
        result["raw"] = raw_encode(texts)
        result["ratio_service_over_raw"] = (
            result["ingest"]["chunks_per_s"] / result["raw"]["chunks_per_s"]
        )
        questions = [q["question"] for q in json.loads(args.questions.read_text())]
        result["search"] = search(api, args.collection, questions, args.repeats)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
