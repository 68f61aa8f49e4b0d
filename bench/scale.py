"""The pipeline at a million chunks (``python -m bench --only scale --scale-sizes
100000,300000,1000000``; on demand, never part of the default run).

One collection grows through the whole service on a private stack without the generator: the
API, the queue, one worker (``--scale-workers N``: N on the one host), Chroma and the keyword
index's Redis (RediSearch), the workers embedding through the TEI stub (``bench/tei_stub/``), so
the figures are docqa's own cost.
The text is real prose, SQuAD train sentences recombined by a seeded RNG (``scale_figures.Prose``;
no two chunks alike), ``BATCH`` documents of ~24 default-size chunks per ``POST /documents``,
``IN_FLIGHT`` requests at a time and at most ``QUEUED`` jobs waiting. At each size it drains the
queue and records (``scale_figures``): the stretch's chunks/s; the rate at which the same Chroma
accepts chunk-sized texts with their stub vectors through ``upsert`` in batches of ``RAW_BATCH``
into a scratch collection deleted afterwards (and the same rows into the keyword index), and into
the grown collection itself, deleted again (``raw_upsert_same_size``: the empty scratch collection
overstates what Chroma takes at size), the limits beside the pipeline; every server's peak RSS
(``VmHWM``) and CPU seconds; disk used; ``/search`` p50/p99 by mode over ``QUESTIONS`` SQuAD train
questions at c=1. After the first, one stretch runs with the worker under cProfile
(``scale_stack``; not with several workers). After each checkpoint it rewrites ``"scale"`` in the
results JSON and the ``bench:scale`` section of the Markdown page, so a run cut short still leaves
its figures.

Resuming (``--scale-resume DIR``): a run cut short (its session ended and took every process
with it) left its stack's data in ``DIR``. The same servers start again on that data; the
collection's size is read back (chunks from Chroma, documents from the catalog), documents
still in flight when it was cut are left to the worker, and the run goes on from there toward
the sizes not yet reached, appending checkpoints to the ``"scale"`` figures already in the
results JSON with a note. New documents take ids above any the first part could have used
and a seed of their own (the number of documents stored), so none replaces or repeats an
earlier one. ``DIR`` is kept.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from bench import scale_figures, scale_stack
from bench.corpus import load_squad
from bench.memory import peak_mib
from bench.results import describe, load_average, machine, now, percentiles, write_json
from bench.scale_stack import RAW_BATCH, cpu_s, du_bytes, rss_mib
from bench.search import TRAIN_SQUAD
from bench.target import MODEL_CACHE, submit_documents
from docqa.core.waiting import wait_until

NAME = "scale"
RESUMED_IDS = 10**7  # a resumed run's document ids start above this, beyond the first part's
BATCH, IN_FLIGHT, QUEUED = 100, 3, 6
RAW_CHUNKS, QUESTIONS, PROFILE_CHUNKS = 20000, 200, 5000
COLLECTION = "scale"


class Run:
    def __init__(self, args: Any, stack: Any, tei: Any, data_dir: Path, metrics: list[str]) -> None:
        self.args, self.stack, self.tei, self.data_dir = args, stack, tei, data_dir
        self.metrics = metrics  # each worker's metrics URL
        self.api = httpx.Client(base_url=stack.base_url, timeout=600)
        squad = load_squad(TRAIN_SQUAD, 10**6)
        self.prose = scale_figures.Prose(scale_figures.sentences(p.text for p in squad.paragraphs))
        self.questions = squad.questions(QUESTIONS)
        self.pids = {name: proc.pid for name, proc in stack.procs.items()}
        self.pids["tei-stub"] = tei.proc.pid
        self.chunks, self.documents = 0, 0
        self.per_document = 11.0
        self.document: dict[str, Any] = {
            "date": now(),
            "command": f"sizes {','.join(map(str, args.scale_sizes))}",
            "machine": describe(machine(), now()),
            "setup": (
                f"{_workers(len(self.metrics))}, the TEI stub embedding, tokenizing "
                f"{'in process' if args.scale_in_process else 'by /tokenize'}; {BATCH} documents "
                f"per request, {IN_FLIGHT} in flight, at most {QUEUED} jobs queued; raw upsert: "
                f"{self.raw_rows():,} chunk-sized texts in batches of {RAW_BATCH} into an empty "
                f"scratch collection of the same Chroma; /search at c=1, {QUESTIONS} questions."
            ),
            "workers": len(self.metrics),
            "sentences": len(self.prose.pool),
            "checkpoints": [],
            "notes": [],
        }

    def _cpu(self) -> dict[str, float]:
        out = {name: cpu_s(pid) for name, pid in self.pids.items()}
        out["bench"] = sum(os.times()[:2])
        return out

    def grow(self, size: int) -> float:
        """Post documents until ~``size`` chunks are stored, then wait for every job."""
        pending: collections.deque[Future[str | None]] = collections.deque()
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            while pending or self.chunks + len(pending) * BATCH * self.per_document < size:
                while (
                    len(pending) < QUEUED
                    and self.chunks + len(pending) * BATCH * self.per_document < size
                ):
                    batch = self.prose.documents(BATCH)
                    pending.append(pool.submit(submit_documents, self.api, COLLECTION, batch))
                job_id = pending[0].result()
                if job_id is None:  # every document already stored as it is: nothing new
                    pending.popleft()
                    continue
                job = self.api.get(f"/jobs/{job_id}").raise_for_status().json()
                if job["state"] == "failed":
                    raise RuntimeError(f"ingest job {job_id} failed: {job.get('error')}")
                if job["state"] != "finished":
                    time.sleep(0.5)
                    continue
                pending.popleft()
                self.chunks += int(job["progress"]["total"])
                self.documents += BATCH
                self.per_document = self.chunks / self.documents
        return time.perf_counter()

    def raw_rows(self) -> int:
        """Rows of the raw references: a fifth of the first size, within 1k..20k."""
        return min(RAW_CHUNKS, max(RAW_BATCH, self.args.scale_sizes[0] // 5))

    def raw_texts(self) -> list[str]:
        count = self.raw_rows()
        texts: list[str] = []
        while len(texts) < count:
            texts += scale_figures.windows(d["text"] for d in self.prose.documents(20))
        return texts[:count]

    def raw_rates(self, texts: list[str], vectors: list[list[float]]) -> tuple[float, float]:
        scratch = f"scale-raw-{len(self.document['checkpoints'])}"
        return scale_stack.raw_rates(self.stack, COLLECTION, scratch, texts, vectors)

    def raw_upsert_same_size(self, texts: list[str], vectors: list[list[float]]) -> float:
        tag = str(len(self.document["checkpoints"]))
        return scale_stack.raw_upsert_same_size(self.stack, COLLECTION, texts, vectors, tag)

    def search_ms(self) -> dict[str, dict[str, float]]:
        out = {}
        for mode in ("hybrid", "dense", "keyword"):
            body = {"collection": COLLECTION, "top_k": 5, "mode": mode}
            latencies = []
            for n, question in enumerate([*self.questions[:10], *self.questions]):
                started = time.perf_counter()
                self.api.post("/search", json={**body, "question": question}).raise_for_status()
                if n >= 10:  # the first ten warm up
                    latencies.append((time.perf_counter() - started) * 1000)
            found = percentiles(latencies, (50, 99))
            out[mode] = {"p50": found[50], "p99": found[99]}
        return out

    def worker_seconds(self) -> dict[str, float]:
        """``scale_figures.worker_seconds`` summed over the workers."""
        found = [scale_figures.worker_seconds(httpx.get(u, timeout=30).text) for u in self.metrics]
        return {key: sum(one[key] for one in found) for key in found[0]}

    def checkpoint(self, size: int, began: float, cpu_before: dict[str, float]) -> None:
        worker_before = self.worker_seconds()
        ended = self.grow(size)
        worker_after = self.worker_seconds()
        cpu_after = self._cpu()
        stretch = max(1, self.chunks - self.stretch_from)
        exited = {n: p.returncode for n, p in self.stack.procs.items() if p.poll() is not None}
        texts = self.raw_texts()
        vectors = scale_stack.stub_vectors(texts)
        raw_upsert, raw_keyword = self.raw_rates(texts, vectors)
        search_ms = self.search_ms()
        # the same rows into the grown collection, after the searches (it adds rows for a while)
        raw_upsert_same_size = self.raw_upsert_same_size(texts, vectors)
        point: dict[str, Any] = {
            "chunks": self.chunks,
            "documents": self.documents,
            "chunks_per_document": round(self.per_document, 2),
            "wall_s": round(ended - began, 1),
            "rate": stretch / (ended - began),
            "raw_upsert": raw_upsert,
            "raw_upsert_same_size": raw_upsert_same_size,
            "raw_keyword": raw_keyword,
            "peak_mib": {n: peak_mib(pid) for n, pid in self.pids.items()},
            "rss_mib": {n: rss_mib(pid) for n, pid in self.pids.items()},
            "cpu_s_per_1k": {
                n: (cpu_after[n] - cpu_before[n]) / stretch * 1000 for n in cpu_before
            },
            "worker": {k: worker_after[k] - worker_before[k] for k in worker_after},
            "disk_bytes": {
                n: du_bytes(self.data_dir / n) for n in ("chroma", "redis", "keyword-redis")
            },
            "search_ms": search_ms,
            "exited": exited,
            "load": load_average(),
            "at": now(),
        }
        self.document["checkpoints"].append(point)
        self.write()
        print(f"… scale: checkpoint {self.chunks:,} chunks written", flush=True)

    def write(self) -> None:
        self.document["written"] = now()
        path: Path = self.args.json
        stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        stored["scale"] = self.document
        write_json(path, stored)
        docs: Path = self.args.docs
        existing = docs.read_text(encoding="utf-8") if docs.is_file() else None
        markdown = scale_figures.render_markdown(self.document)
        docs.write_text(scale_figures.splice(existing, markdown), encoding="utf-8")

    def run(self) -> None:
        self.api.get("/readyz").raise_for_status()
        self.stretch_from = 0
        if self.args.scale_resume:
            self.resume()
        else:
            self.grow(BATCH * 11)  # warm-up: creates the collection, sets chunks per document
        for size in (s for s in self.args.scale_sizes if s > self.chunks):
            began, cpu_before = time.perf_counter(), self._cpu()
            self.stretch_from = self.chunks
            self.checkpoint(size, began, cpu_before)
            if "profile" not in self.document and len(self.metrics) == 1:
                self.profile(min(PROFILE_CHUNKS, size // 4))
        if self.args.scale_profile:  # one more, at the size reached (a resumed run's end)
            self.profile(self.args.scale_profile)

    def resume(self) -> None:
        """Go on from the collection the cut run left: its figures so far, its size once the
        queue it left has drained."""
        from docqa.adapters._redis import client
        from docqa.adapters.chroma import PREFIX, connect

        before = json.loads(self.args.json.read_text(encoding="utf-8"))[NAME]
        with client(f"redis://127.0.0.1:{self.stack.redis_port}/0") as redis:
            wait_until(lambda: _drained(redis), 3600, "the jobs the cut run left")
        collection = connect(f"http://127.0.0.1:{self.stack.chroma_port}")
        self.chunks = collection.get_collection(PREFIX + COLLECTION).count()
        listed = self.api.get("/documents", params={"collection": COLLECTION, "limit": 1})
        self.documents = int(listed.raise_for_status().json()["total"])
        self.per_document = self.chunks / max(1, self.documents)
        # a stream of its own, ids above the first part's and any earlier resume's
        self.prose = scale_figures.Prose(self.prose.pool, seed=self.documents)
        self.prose.made = RESUMED_IDS + self.documents
        last = before["checkpoints"][-1]["chunks"] if before["checkpoints"] else 0
        note = (
            f"resumed {now()} on the same data at {self.chunks:,} chunks ({self.documents:,} "
            f"documents; last checkpoint {last:,}), every process restarted, at commit "
            f"{_commit()}: later figures are the resumed processes'"
        )
        self.document = {**before, "notes": [*before.get("notes", []), note]}
        self.write()
        print(f"… scale: {note}", flush=True)

    def profile(self, chunks: int) -> None:
        """A stretch of ``chunks`` with the worker under cProfile (``scale_stack``)."""
        target = self.chunks + chunks
        out = self.data_dir / "worker.prof"
        rows = scale_stack.profiled_stretch(self.stack, out, lambda: self.grow(target))
        self.pids["worker"] = self.stack.procs["worker"].pid
        metrics = f"http://127.0.0.1:{self.stack.worker_metrics_port}/metrics"
        wait_until(lambda: _answers(metrics), 300, "the restarted worker's metrics")
        found = {"to_chunks": self.chunks, "functions": rows}
        if "profile" in self.document:
            self.document.setdefault("profiles", []).append(found)
        else:
            self.document["profile"] = found
        self.document["notes"].append(
            f"from {target - chunks:,} chunks the worker ran {chunks:,} chunks under cProfile and "
            "was then restarted: its later peaks are the new process's, from that size on"
        )
        self.write()


def _workers(count: int) -> str:
    return "One worker" if count == 1 else f"{count} workers on the one host"


def _drained(redis: Redis) -> bool:
    """No job waits in any queue of ``redis``, and none is being run."""
    from rq import Queue

    queues = Queue.all(connection=redis)
    return all(q.count == 0 and q.started_job_registry.count == 0 for q in queues)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=10).is_success
    except httpx.HTTPError:
        return False


def _commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or "unknown"


def run(args: Any) -> int:
    """The whole scale run on a private stack in ``--scale-dir`` (a temporary folder), or in
    ``--scale-resume``'s folder, kept."""
    from bench.tei_stub import TeiStub
    from docqa.adapters.local_embedder import default_model_path
    from docqa.stack.local import Stack
    from docqa.stack.processes import free_port

    Path(args.scale_dir).mkdir(parents=True, exist_ok=True)
    folder = (
        contextlib.nullcontext(str(args.scale_resume))
        if args.scale_resume
        else tempfile.TemporaryDirectory(prefix="docqa-scale-", dir=args.scale_dir)
    )
    # --scale-in-process: the stub serves MiniLM's tokenizer.json, which the workers load and
    # tokenize with, as they do the served model's beside a real TEI (else /tokenize, the
    # fallback); on the calling thread, so that its CPU is the worker's own
    tokenizer = default_model_path() / "tokenizer.json" if args.scale_in_process else None
    with folder as tmp, TeiStub(log=Path(tmp) / "tei-stub.log", tokenizer=tokenizer) as tei:
        env = {"DOCQA_EMBEDDER": "tei", "DOCQA_TEI_URL": tei.url}
        if tokenizer is not None:
            env |= {"DOCQA_TEI_TOKENIZER_PATH": str(tokenizer), "TOKENIZERS_PARALLELISM": "false"}
        stack = Stack(
            data_dir=Path(tmp), api_port=free_port(), quiet=True, model_cache=MODEL_CACHE,
            extra_env=env, generator=False,
        )  # fmt: skip
        try:
            stack.start()
            ports = [stack.worker_metrics_port]
            if args.scale_workers > 1:
                ports += stack.start_more_workers(args.scale_workers - 1)
            metrics = [f"http://127.0.0.1:{port}/metrics" for port in ports]
            for url in metrics:
                wait_until(partial(_answers, url), 300, f"the worker's metrics at {url}")
            pids = {name: proc.pid for name, proc in stack.procs.items()}
            print(f"… scale: stack in {tmp}, processes {pids}", flush=True)
            scale = Run(args, stack, tei, Path(tmp), metrics)
            try:
                scale.run()
            except BaseException as exc:
                exited = {n: p.returncode for n, p in stack.procs.items() if p.poll() is not None}
                scale.document["notes"].append(
                    f"run stopped at {scale.chunks:,} chunks: {exc!r}; exited: {exited or 'none'}"
                )
                scale.write()
                raise
        finally:
            stack.stop()
            subprocess.run(["sync"], check=False)
    return 0


def kept(path: Path) -> dict[str, Any]:
    """The ``"scale"`` part of the results JSON, for the other benches to keep on rewrite."""
    if not path.is_file():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {NAME: stored[NAME]} if NAME in stored else {}
