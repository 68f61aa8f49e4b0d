"""The evaluation's HTTP client for the running service, the corpus ingested through
it (API → queue → worker) or found already there, and questions asked in parallel, in order."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from tqdm import tqdm

from docqa.core.waiting import wait_until
from docqa.training.squad import Corpus, Paragraph

T = TypeVar("T")
R = TypeVar("R")

BATCH = 500  # documents per POST /documents
PAGE = 1000  # the largest page GET /documents gives


Post = Callable[[httpx.Client, str, list[Paragraph]], list[Any]]


class EvalError(RuntimeError):
    """The evaluation cannot go on; the message says why."""


def client(base_url: str, concurrency: int = 4, timeout_s: float = 300) -> httpx.Client:
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency)
    return httpx.Client(base_url=base_url, timeout=timeout_s, limits=limits)


def call(api: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """One request; its JSON body, or an ``EvalError`` with the service's problem detail."""
    try:
        response = api.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise EvalError(
            f"{method} {api.base_url}{path}: {exc!r} (is the service running?)"
        ) from exc
    if response.is_error:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise EvalError(f"{method} {path} answered {response.status_code}: {detail}")
    return response.json()


def statuses(api: httpx.Client, collection: str) -> dict[str, str]:
    """Every document id in the collection and its status (queued, indexed, failed)."""
    found: dict[str, str] = {}
    offset = 0
    while True:
        page = call(
            api,
            "GET",
            "/documents",
            params={"collection": collection, "offset": offset, "limit": PAGE},
        )
        found.update((item["id"], item["status"]) for item in page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return found


def holds(corpus: Corpus, found: dict[str, str]) -> bool:
    """Whether a collection's documents are exactly the corpus, all indexed."""
    return len(found) == len(corpus.paragraphs) and all(
        found.get(p.id) == "indexed" for p in corpus.paragraphs
    )


@dataclass
class Ingest:
    collection: str
    reused: bool
    seconds: float = 0.0
    queued: int = 0  # documents the service had to index
    jobs: list[str] = field(default_factory=list)
    others: int = 0  # documents in the collection that are not in the corpus


def ensure_corpus(
    api: httpx.Client,
    corpus: Corpus,
    collection: str,
    *,
    progress: bool = True,
    poll_s: float = 1.0,
    timeout_s: float = 6 * 3600,
    post: Post | None = None,
) -> Ingest:
    """Re-use the collection when it holds the corpus; else post the paragraphs and wait.
    ``post`` sends a batch its own way (files, as ``docset.upload``); default: JSON texts."""
    found = statuses(api, collection)
    if holds(corpus, found):
        return Ingest(collection, reused=True)
    started = time.perf_counter()
    report = Ingest(collection, reused=False)
    jobs: dict[str, int] = {}  # job id → documents it indexes
    send = post or _post_texts
    for start in range(0, len(corpus.paragraphs), BATCH):
        for accepted in send(api, collection, corpus.paragraphs[start : start + BATCH]):
            if not accepted["job_id"]:
                continue
            queued = sum(d["status"] == "queued" for d in accepted["documents"])
            jobs[accepted["job_id"]] = queued
            report.queued += queued
    report.jobs = list(jobs)
    deadline = time.monotonic() + timeout_s
    try:
        with tqdm(
            total=report.queued, desc="ingest", unit="paragraph", disable=not progress
        ) as bar:
            _wait_for_jobs(api, jobs, bar, deadline, poll_s)
        _wait_until_indexed(api, corpus, collection, deadline, poll_s)
    except TimeoutError as exc:
        raise EvalError(f"ingest: {exc}") from exc
    report.seconds = time.perf_counter() - started
    report.others = len(statuses(api, collection)) - len(corpus.paragraphs)
    return report


def _post_texts(api: httpx.Client, collection: str, batch: list[Paragraph]) -> list[Any]:
    documents = [p.as_document() for p in batch]
    body = {"collection": collection, "documents": documents}
    return [call(api, "POST", "/documents", json=body)]


def _wait_for_jobs(
    api: httpx.Client, jobs: dict[str, int], bar: tqdm[Any], deadline: float, poll_s: float
) -> None:
    done: dict[str, float] = dict.fromkeys(jobs, 0.0)
    pending = set(jobs)

    def finished() -> bool:
        for job_id in sorted(pending):
            job = call(api, "GET", f"/jobs/{job_id}")
            if job["state"] == "failed":
                raise EvalError(f"ingest job {job_id} failed: {job['error']}")
            if job["state"] == "finished":
                done[job_id] = jobs[job_id]
                pending.discard(job_id)
            elif job["progress"]["total"]:
                share = job["progress"]["done"] / job["progress"]["total"]
                done[job_id] = jobs[job_id] * share
        bar.n = int(sum(done.values()))
        bar.refresh()
        return not pending

    wait_until(
        finished,
        deadline - time.monotonic(),
        lambda: f"ingest jobs {sorted(pending)} to finish",
        interval=poll_s,
    )


def _wait_until_indexed(
    api: httpx.Client, corpus: Corpus, collection: str, deadline: float, poll_s: float
) -> None:
    """Documents an earlier, interrupted run queued are 'unchanged' now, yet maybe not indexed."""
    waiting: list[str] = []

    def indexed() -> bool:
        found = statuses(api, collection)
        failed = [p.id for p in corpus.paragraphs if found.get(p.id) == "failed"]
        if failed:
            raise EvalError(f"{len(failed)} paragraphs failed to index, e.g. {failed[0]}")
        waiting[:] = [p.id for p in corpus.paragraphs if found.get(p.id) != "indexed"]
        return not waiting

    wait_until(
        indexed,
        deadline - time.monotonic(),
        lambda: f"{len(waiting)} paragraphs to be indexed, e.g. {waiting[0]}",
        interval=max(poll_s, 1.0),
    )


def ordered_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    concurrency: int,
    desc: str,
    progress: bool = True,
) -> list[R]:
    """``fn`` over ``items`` on ``concurrency`` threads, results in input order, with a bar."""
    results: list[R] = []
    executor = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        mapped: Iterator[R] = executor.map(fn, items)
        for result in tqdm(mapped, total=len(items), desc=desc, unit="q", disable=not progress):
            results.append(result)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return results
