"""Measures the worker's own CPU per chunk, two source trees side by side: the same documents go
through ``index_documents`` with the worker's real parts (``wiring.services``: Chroma's HTTP
client, the RediSearch keyword index, the Redis catalog, the TEI adapter over the TEI stub's
``/tokenize`` and ``/embed``), one process per tree and round, into a fresh collection of one
private Chroma and Redis pair (``Stack.start_servers``). The CPU counted is that process's
(``time.process_time``: every thread) while ``index_documents`` runs, so it leaves out the
stub's, Chroma's and Redis's own CPU; it includes the clients' work in the worker (encoding
requests, decoding answers).

The documents are the scale bench's (``scale_figures.Prose`` of SQuAD train sentences, seed 0,
100 per job), so each run indexes the same chunks; the chunk ids' digest shows it. Trees run in
turns (A B A B...) so that both meet the same load. ``--spy PATH --profile DIR`` runs each child
under py-spy, whose samples of the threads holding the GIL go to ``DIR/<tree>-<round>.txt``.

Beside the process's CPU, each run reports the CPU its threads spent inside calls to each part
(``in_parts_ms_per_chunk``: the embedder, tokenizing included; Chroma's client; the keyword
index's; the catalog's) and ``outside_embedder_and_store_ms_per_chunk``, the process's CPU less
the first two; the embedder's part is split into tokenizing (``token_spans``, chunking's) and
embedding (``embed``), and ``outside_embed_and_store_ms_per_chunk`` is the process's CPU less
``embed`` and Chroma's client: the steps the issue names, tokenizing being the worker's own.
``--in-process``: the stub serves MiniLM's ``tokenizer.json`` and the worker
tokenizes with it (``TOKENIZERS_PARALLELISM=false``, so that the tokenizer's CPU is the calling
thread's and counts to the embedder); without it the worker tokenizes through ``/tokenize``, as
the scale bench does.

    git worktree add /tmp/base25 907997e
    nice -n 19 .venv/bin/python -m bench.experiments.worker_cpu --before /tmp/base25 --jobs 3
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PER_JOB = 100
PARTS = ("embedder", "store", "keywords", "catalog")  # the rest: chunking, the pipeline, progress


class Metered:
    """``inner`` with the CPU of the calling thread during each of its method calls added to
    ``spent[name]`` (``time.thread_time``: that thread's CPU alone, whichever threads run)."""

    def __init__(self, inner: Any, name: str, spent: dict[str, float]) -> None:
        self._inner, self._name, self._spent = inner, name, spent
        self._lock = threading.Lock()

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._inner, attribute)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return value(*args, **kwargs)
            finally:
                took = time.thread_time() - started
                with self._lock:
                    self._spent[self._name] += took
                    method = f"{self._name}.{attribute}"
                    self._spent[method] = self._spent.get(method, 0.0) + took

        return call


def corpus(path: Path, jobs: int) -> list[list[dict[str, Any]]]:
    """``jobs`` lists of ``PER_JOB`` documents, as the scale bench posts them."""
    from bench.corpus import load_squad
    from bench.scale_figures import Prose, sentences
    from bench.search import TRAIN_SQUAD

    squad = load_squad(TRAIN_SQUAD, 10**6)
    prose = Prose(sentences(p.text for p in squad.paragraphs))
    return [prose.documents(PER_JOB) for _ in range(jobs)]


def child(documents: Path, collection: str) -> dict[str, Any]:
    """One run, in the tree's own process (its docqa on ``sys.path``)."""
    from docqa import wiring
    from docqa.core.config import Settings
    from docqa.core.logs import configure_logging
    from docqa.core.models import DocumentRecord, PendingDocument, content_hash
    from docqa.ingest.indexing import index_documents

    settings = Settings()
    configure_logging(settings.log_level)  # as the worker: JSON lines on stderr
    services = wiring.services(settings, owner="worker-cpu")
    services.embedder.spec  # noqa: B018  (loaded before the runs, as the worker does)
    spent, plain = dict.fromkeys(PARTS, 0.0), services  # plain: for the set-up, not metered
    metered: dict[str, Any] = {
        part: Metered(getattr(services, part), part, spent) for part in PARTS
    }
    services = dataclasses.replace(services, **metered)
    chunker = wiring.chunker(services)
    redis = getattr(plain.catalog, "_redis", None)
    cpu = chunks = progress_calls = 0.0
    ids: list[str] = []
    for number, job in enumerate(json.loads(documents.read_text())):
        pending = [
            PendingDocument(
                collection, d["id"], content_hash(d["text"]), data=d["text"], title=d["title"]
            )
            for d in job
        ]
        plain.catalog.put(
            [
                DocumentRecord(
                    d.id, d.collection, d.title, {}, "text", d.content_hash, "queued", "j"
                )
                for d in pending
            ]
        )

        def progress(done: int, total: int, key: str = f"worker-cpu:{number}") -> None:
            nonlocal progress_calls
            progress_calls += 1
            if redis is not None:  # as RQ's job.save_meta: one small write per call
                redis.hset(key, "progress", json.dumps({"done": done, "total": total}))

        started = time.process_time()
        report = index_documents(
            pending,
            embedder=services.embedder,
            store=services.store,
            keywords=services.keywords,
            catalog=services.catalog,
            chunker=chunker,
            progress=progress,
        )
        cpu += time.process_time() - started
        chunks += sum(report.indexed.values())
        found = plain.store.chunk_ids(collection, [d.id for d in pending])
        ids += [chunk_id for chunk_ids in found.values() for chunk_id in chunk_ids]
    parts = {part: 1000 * spent[part] / chunks for part in PARTS}
    tokenizing = 1000 * spent.get("embedder.token_spans", 0.0) / chunks
    embedding = 1000 * spent.get("embedder.embed", 0.0) / chunks
    return {
        "chunks": int(chunks),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_chunk": round(1000 * cpu / chunks, 3),
        "in_parts_ms_per_chunk": {part: round(ms, 3) for part, ms in parts.items()},
        "outside_embedder_and_store_ms_per_chunk": round(
            1000 * cpu / chunks - parts["embedder"] - parts["store"], 3
        ),
        # the embedder's part split: tokenizing for chunking, and the /embed calls
        "tokenizing_ms_per_chunk": round(tokenizing, 3),
        "embedding_ms_per_chunk": round(embedding, 3),
        # the steps: everything but Chroma's client and /embed (tokenizing is chunking's)
        "outside_embed_and_store_ms_per_chunk": round(
            1000 * cpu / chunks - embedding - parts["store"], 3
        ),
        "progress_calls": int(progress_calls),
        "ids_digest": hashlib.sha256(" ".join(sorted(ids)).encode()).hexdigest()[:16],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other tree (worktree)")
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--jobs", type=int, default=3, help=f"jobs of {PER_JOB} documents")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", type=Path, help="with --spy: write each run's stacks here")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="the stub serves MiniLM's tokenizer.json and the worker tokenizes with it in process",
    )
    parser.add_argument(
        "--spy", type=Path, help="py-spy's path: record each run's stacks (raw) in --profile"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)  # documents, collection
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), args.child[1])))
        return
    from bench.tei_stub import TeiStub
    from docqa.adapters.local_embedder import default_model_path
    from docqa.stack.local import Stack

    tokenizer = default_model_path() / "tokenizer.json" if args.in_process else None

    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    with (
        tempfile.TemporaryDirectory(prefix="worker-cpu-") as tmp,
        TeiStub(tokenizer=tokenizer) as tei,
    ):
        documents = Path(tmp) / "documents.json"
        documents.write_text(json.dumps(corpus(Path(tmp), args.jobs)))
        stack = Stack(Path(tmp) / "stack", generator=False, quiet=True)
        stack.extra_env.update({"DOCQA_EMBEDDER": "tei", "DOCQA_TEI_URL": tei.url})
        if tokenizer is not None:  # on the calling thread, so that its CPU is the embedder's
            stack.extra_env["DOCQA_TEI_TOKENIZER_PATH"] = str(tokenizer)
            stack.extra_env["TOKENIZERS_PARALLELISM"] = "false"
        stack.start_servers()
        try:
            for round_ in range(args.rounds):
                for name, tree in trees.items():
                    path = os.pathsep.join(str(tree / part) for part in ("services", ""))
                    command = [sys.executable, __file__, "--before", str(args.before)]
                    command += ["--child", str(documents), f"{name}-{round_}"]
                    if args.spy is not None and args.profile is not None:
                        args.profile.mkdir(parents=True, exist_ok=True)
                        spied = args.profile / f"{name}-{round_}.txt"
                        record = [str(args.spy), "record", "--format", "raw", "--gil", "-r", "200"]
                        command = [*record, "-o", str(spied), "--", *command]
                    env = {**stack.env, "PYTHONPATH": path, "DOCQA_LOG_LEVEL": "INFO"}
                    done = subprocess.run(
                        command, env=env, capture_output=True, text=True, check=True
                    )
                    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
                    results[name].append(json.loads(lines[-1]))
                    print(round_, name, results[name][-1], os.getloadavg(), flush=True)
        finally:
            stack.stop()
    print(json.dumps({"load": os.getloadavg(), **results}, indent=1))


if __name__ == "__main__":
    main()
