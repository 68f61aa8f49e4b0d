"""The stack under test: a private ``Stack`` in a temporary directory, or one at a URL; and
the few HTTP calls every measurement shares."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from docqa.core.models import Chunk
from docqa.core.waiting import wait_until

MODEL_CACHE = Path.home() / ".cache" / "docqa" / "models"  # the assembled GGUF, kept across runs


@dataclass(frozen=True)
class Target:
    base_url: str
    chroma_url: str | None  # for the raw search reference; None when not known
    worker_pid: int | None = None  # the embedding worker's process, on a private stack
    keyword_url: str | None = None  # the keyword index's Redis, on a private stack


@contextmanager
def open_target(
    base_url: str | None,
    chroma_url: str | None,
    *,
    extra_env: dict[str, str] | None = None,
    generator: bool = True,
) -> Iterator[Target]:
    """The stack at ``base_url``, or a private one started now and stopped on exit (with
    ``extra_env`` in its processes' environment; without llama.cpp unless ``generator``)."""
    if base_url:
        yield Target(base_url.rstrip("/"), chroma_url)
        return
    from docqa.stack.local import Stack
    from docqa.stack.processes import free_port

    with tempfile.TemporaryDirectory(prefix="docqa-bench-") as tmp:
        stack = Stack(
            data_dir=Path(tmp),
            api_port=free_port(),
            quiet=True,
            model_cache=MODEL_CACHE,
            extra_env=dict(extra_env or {}),
            generator=generator,
        )
        started = time.perf_counter()
        try:
            stack.start()
        except Exception:
            stack.stop()
            _print_logs(Path(tmp) / "logs")
            raise
        print(f"private stack ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        try:
            yield Target(
                stack.base_url,
                f"http://127.0.0.1:{stack.chroma_port}",
                worker_pid=stack.procs["worker"].pid,
                keyword_url=f"redis://127.0.0.1:{stack.keyword_redis_port}/0",
            )
        finally:
            stack.stop()


def _print_logs(log_dir: Path, lines: int = 20) -> None:
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        print(f"--- {log.name} (last {len(tail)} lines)", *tail, sep="\n", file=sys.stderr)


def wait_for_job(
    api: httpx.Client, job_id: str, timeout_s: float, poll_s: float = 0.1
) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until it is finished or failed (``TimeoutError`` after
    ``timeout_s``, with the state last seen)."""
    seen: list[dict[str, Any]] = []

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").raise_for_status().json()
        seen.append(job)
        return job if job["state"] in ("finished", "failed") else None

    return wait_until(
        ended, timeout_s, lambda: f"job {job_id} (still {seen[-1]['state']})", interval=poll_s
    )


@dataclass(frozen=True)
class Ingested:
    elapsed_s: float  # POST sent -> job finished (``post_documents``)
    job: dict[str, Any] | None  # None when every document was already stored


def submit_documents(
    api: httpx.Client, collection: str, documents: Sequence[dict[str, Any]]
) -> str | None:
    """POST ``documents`` in one request without waiting; the job id (None: nothing to do)."""
    response = api.post("/documents", json={"collection": collection, "documents": documents})
    if response.status_code != 202:
        raise RuntimeError(f"POST /documents answered {response.status_code}: {response.text}")
    job_id: str | None = response.json()["job_id"]
    return job_id


def post_documents(
    api: httpx.Client,
    collection: str,
    documents: Sequence[dict[str, Any]],
    timeout_s: float,
    poll_s: float = 0.1,
) -> Ingested:
    """POST ``documents`` in one request and wait for their job; raises if it failed.

    The time taken is the POST's round trip plus the job's own enqueued-to-ended time (the
    service's clock: two differences, so clock skew does not enter; the instant between the
    enqueue and the reply is counted twice, a millisecond at most). So it does not depend on
    how often the job is polled, and polling can be as sparse as a client's (``docqa ingest``
    polls once a second) instead of loading the service it measures."""
    started = time.perf_counter()
    response = api.post("/documents", json={"collection": collection, "documents": documents})
    posted_s = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"POST /documents answered {response.status_code}: {response.text}")
    job_id = response.json()["job_id"]
    if not job_id:
        return Ingested(posted_s, None)
    job = wait_for_job(api, job_id, timeout_s, poll_s)
    if job["state"] != "finished":
        raise RuntimeError(f"ingest job {job_id} failed: {job.get('error')}")
    return Ingested(posted_s + seconds_between(job, "enqueued_at", "ended_at"), job)


def seconds_between(job: dict[str, Any], start: str, end: str) -> float:
    """Seconds from one of a job's timestamps to another (ISO 8601, the service's clock)."""
    delta = datetime.fromisoformat(job[end]) - datetime.fromisoformat(job[start])
    return delta.total_seconds()


def stored_chunks(api: httpx.Client, collection: str, document_ids: Sequence[str]) -> list[Chunk]:
    """The documents' stored chunks, as the service chunked them (``GET .../chunks``); each
    rebuilt chunk's id is checked against the stored one, so its metadata came back whole."""
    chunks: list[Chunk] = []
    for document_id in document_ids:
        response = api.get(f"/documents/{document_id}/chunks", params={"collection": collection})
        for stored in response.raise_for_status().json():
            chunk = Chunk(document_id, stored["position"], stored["text"], stored["metadata"])
            if chunk.id != stored["id"]:
                raise RuntimeError(f"chunk {stored['id']} came back as {chunk.id}")
            chunks.append(chunk)
    return chunks
