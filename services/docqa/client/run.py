"""``docqa ingest``: walk, compare with what is stored, send what changed, watch the jobs.

Batches go out with ``concurrency`` requests in flight (threads sharing one httpx client); at
most that many batches are held in memory besides the one being packed. A batch the server
refuses (400, 413, 415, 422) is split in halves until the documents at fault stand alone, so
one bad document fails alone. Progress: documents read (with rate and ETA against a cheap
count made first) and chunks indexed (the jobs' progress from ``GET /jobs/{id}``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tqdm import tqdm

from docqa.client import plan, sources
from docqa.client.sources import Document, Failure, Root
from docqa.client.transport import Api, in_flight, reason

SPLIT = (400, 413, 415, 422)
ENDED = ("finished", "failed")


@dataclass
class Options:
    paths: list[Path]
    collection: str
    base_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    glob: str | None = None
    delete_missing: bool = False
    dry_run: bool = False
    concurrency: int = 4
    progress: bool = True
    poll_s: float = 1.0
    batch_bytes: int = plan.BATCH_BYTES
    batch_documents: int = plan.BATCH_DOCUMENTS


@dataclass
class Summary:
    read: int = 0  # local documents read
    sent: int = 0  # documents whose content went to the server
    queued: int = 0
    unchanged: int = 0  # equal hash: not sent (or sent and found unchanged)
    failed: list[Failure] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    def lines(self) -> list[str]:
        would = "would be " if self.dry_run else ""
        out = [
            f"documents read: {self.read}",
            f"documents {would}sent: {self.sent}, queued: {self.queued}, "
            f"unchanged: {self.unchanged}, failed: {len(self.failed)}",
            f"documents {would}deleted: {len(self.deleted)}",
            f"chunks indexed: {self.chunks} in {len(self.jobs)} jobs",
            f"time: {self.seconds:.1f} s",
        ]
        out += [f"  would delete {i}" for i in self.deleted] if self.dry_run else []
        out += [f"  failed {f.where}: {f.reason}" for f in self.failed]
        return out


def ingest(options: Options, client: httpx.Client | None = None) -> Summary:
    """Run ``docqa ingest``; ValueError for bad options (before anything is sent)."""
    started = time.monotonic()
    roots = sources.roots(options.paths)
    headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
    own = client is None
    client = client or httpx.Client(base_url=options.base_url, headers=headers, timeout=300)
    try:
        summary = _ingest(options, roots, Api(client))
    finally:
        if own:
            client.close()
    summary.seconds = time.monotonic() - started
    return summary


def _ingest(options: Options, roots: list[Root], api: Api) -> Summary:
    summary = Summary(dry_run=options.dry_run)
    stored = {i: (h, s) for i, h, s in api.stored(options.collection)}
    walk_failures: list[Failure] = []
    listed = [(r, rel) for r in roots for rel in sources.files(r, options.glob, walk_failures)]
    local: set[str] = set()
    lock = threading.Lock()
    read_bar = _bar(options, "documents read", sum(sources.count(r, p) for r, p in listed))
    summary.failed += walk_failures

    def changed() -> Iterator[Document]:
        for root, relative in listed:
            for item in sources.read(root, relative):
                read_bar.update(1)
                if isinstance(item, Failure):
                    walk_failures.append(item)
                    summary.failed.append(item)
                    continue
                summary.read += 1
                if item.id in local:
                    walk_failures.append(Failure(item.id, "id found twice in the walk"))
                    summary.failed.append(walk_failures[-1])
                    continue
                local.add(item.id)
                if plan.unchanged(item, stored):
                    summary.unchanged += 1
                else:
                    yield item

    def send(batch: list[Document]) -> None:
        with lock:
            summary.sent += len(batch)
        if options.dry_run:
            return
        for outcome in _post(api, options.collection, batch):
            with lock:
                if isinstance(outcome, Failure):
                    summary.failed.append(outcome)
                elif outcome == "queued":
                    summary.queued += 1
                elif outcome == "unchanged":
                    summary.unchanged += 1
                else:
                    summary.jobs.append(outcome)

    batches = plan.batches(changed(), options.batch_bytes, options.batch_documents)
    in_flight(batches, send, options.concurrency)
    read_bar.close()
    if options.delete_missing:
        _delete_missing(options, roots, api, stored, local, bool(walk_failures), summary)
    if not options.dry_run:
        wait_for_jobs(options, api, summary)
    return summary


def _post(api: Api, collection: str, batch: list[Document]) -> Iterator[str | Failure]:
    """Each document's outcome ("queued", "unchanged" or a Failure), then the job id."""
    response = api.post(collection, batch)
    if response.status_code == 202:
        body = response.json()
        yield from (d["status"] for d in body["documents"])
        if body["job_id"]:
            yield body["job_id"]
    elif response.status_code in SPLIT and len(batch) > 1:
        half = len(batch) // 2
        yield from _post(api, collection, batch[:half])
        yield from _post(api, collection, batch[half:])
    else:
        yield from (Failure(d.id, reason(response)) for d in batch)


def _delete_missing(
    options: Options,
    roots: list[Root],
    api: Api,
    stored: dict[str, tuple[str, str]],
    local: set[str],
    walk_failed: bool,
    summary: Summary,
) -> None:
    try:
        missing = plan.to_delete(stored, local, [r.prefix for r in roots], walk_failed=walk_failed)
    except ValueError as exc:
        summary.failed.append(Failure("--delete-missing", str(exc)))
        return
    for document_id in missing:
        if not options.dry_run:
            response = api.delete(options.collection, document_id)
            if response.status_code not in (204, 404):
                summary.failed.append(Failure(document_id, f"not deleted: {reason(response)}"))
                continue
        summary.deleted.append(document_id)


def wait_for_jobs(options: Options, api: Api, summary: Summary) -> None:
    """Poll the jobs until each has ended; the bar shows chunks embedded of those known."""
    bar = _bar(options, "chunks indexed", None)
    open_jobs = dict.fromkeys(summary.jobs, (0, 0))
    while open_jobs:
        for job_id in list(open_jobs):
            job = api.job(job_id)
            progress = job["progress"]
            open_jobs[job_id] = (progress["done"], progress["total"])
            if job["state"] in ENDED:
                del open_jobs[job_id]
                summary.chunks += progress["done"]
                if job["state"] == "failed":
                    summary.failed.append(Failure(f"job {job_id}", str(job["error"])))
        bar.total = summary.chunks + sum(t for _, t in open_jobs.values())
        bar.n = summary.chunks + sum(d for d, _ in open_jobs.values())
        bar.refresh()
        if open_jobs:
            time.sleep(options.poll_s)
    bar.close()


def _bar(options: Options, what: str, total: int | None) -> tqdm:
    return tqdm(
        total=total,
        desc=what,
        unit=" docs" if "doc" in what else " chunks",
        disable=not options.progress,
        dynamic_ncols=True,
    )
