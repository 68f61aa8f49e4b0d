"""Job functions, enqueued by dotted path (``docqa.worker.jobs.ingest``, ``...jobs.check``).

The worker builds its parts once (``preload``: ``wiring.services``, the embedder loaded); a job
run elsewhere (RQ's ``SimpleWorker`` in tests) builds them from ``Settings`` on first use, and a
test may hand in its own (``use``).

A job's argument is the key of its payload, a list of ``PendingDocument.to_job()`` dicts, which
it deletes once it has succeeded (``adapters.queue``: RQ would keep them a week with the job's
status); a job of the previous release carries the list itself. ``PendingDocument.from_job``
also reads the previous release's documents, so jobs it left in the queue run after an upgrade.

Failures: an outside system that is unavailable raises, so RQ's ``Retry`` runs the job again
(it is idempotent). Anything else is permanent: the document is marked failed with the reason,
the job ends failed with that reason, and it is not retried.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rq import get_current_job
from rq.job import Job

from docqa import wiring
from docqa.core.config import Settings
from docqa.core.errors import DocqaError, Unavailable
from docqa.core.logs import request_context
from docqa.core.metrics import INGEST_JOB_DURATION
from docqa.core.models import PendingDocument
from docqa.ingest import check_report
from docqa.ingest.indexing import index_documents
from docqa.wiring import Services

log = logging.getLogger(__name__)


_services: Services | None = None


def use(services: Services | None) -> None:
    """Run the jobs of this process with ``services`` (None: build them on the next job)."""
    global _services
    _services = services


def preload(
    settings: Settings, worker_name: str = "worker", queue: wiring.IngestQueue | None = None
) -> Services:
    """Build the worker's parts (its name on the catalog's locks) and load the embedder now."""
    services = wiring.services(settings, owner=worker_name, queue=queue)
    services.embedder.spec  # noqa: B018  (loads the model before the first job, not during it)
    use(services)
    return services


class JobFailed(DocqaError):
    title = "Ingest job failed"


def ingest(documents: list[dict[str, Any]] | str) -> dict[str, Any]:
    """Index the documents (or those stored under the key given: see the module docstring);
    logs carry the id of the request that sent them."""
    job = get_current_job()
    key = documents if isinstance(documents, str) else None
    if isinstance(documents, str):
        if job is None:
            raise RuntimeError("a job of stored documents runs under an RQ worker")
        found = wiring.load_payload(job.connection, documents)
        if found is None:
            raise JobFailed(f"the documents of job {job.id} are gone ({documents} expired)")
        documents = found
    with request_context(job.meta.get("request_id") if job is not None else None):
        ids = [f"{d['collection']}/{d['id']}" for d in documents]
        extra: dict[str, object] = {"job_id": job.id if job else None, "documents": ids}
        log.info("ingest job started: %s", ", ".join(ids), extra=extra)
        started, outcome = time.perf_counter(), "error"
        try:
            result = _ingest(documents, job)
            outcome = "ok"
            if key is not None and job is not None:
                wiring.drop_payload(job.connection, key)  # RQ would keep them a week
        except Unavailable:
            outcome = "unavailable"
            raise
        finally:
            took = time.perf_counter() - started
            INGEST_JOB_DURATION.labels(outcome).observe(took)
            extra |= {"outcome": outcome, "duration_ms": round(took * 1000, 2)}
            log.info("ingest job ended %s: %s", outcome, ", ".join(ids), extra=extra)
        return result


def _ingest(documents: list[dict[str, Any]], job: Job | None) -> dict[str, Any]:
    context = _services or preload(Settings())
    pending = [PendingDocument.from_job(document) for document in documents]

    def progress(done: int, total: int) -> None:
        if job is not None:
            job.meta["progress"] = {"done": done, "total": total}
            job.save_meta()

    try:
        report = index_documents(
            pending,
            embedder=context.embedder,
            store=context.store,
            keywords=context.keywords,
            catalog=context.catalog,
            chunker=wiring.chunker(context),
            progress=progress,
        )
    except Unavailable as exc:
        last_attempt = job is None or not job.retries_left
        _fail(job, f"{exc.detail}" + ("" if last_attempt else " (will retry)"), retry=True)
        if last_attempt:
            for document in pending:
                context.catalog.update(
                    document.collection,
                    document.id,
                    document.content_hash,
                    status="failed",
                    error=exc.detail,
                )
        raise
    if report.failed:
        reasons = "; ".join(f"{doc}: {reason}" for doc, reason in report.failed.items())
        _fail(job, reasons, retry=False)
        raise JobFailed(reasons)
    log.info(
        "indexed %s, embedded %d chunks",
        report.indexed,
        report.embedded,
        extra={"indexed": report.indexed, "skipped": report.skipped, "embedded": report.embedded},
    )
    return {"indexed": report.indexed, "skipped": report.skipped, "embedded": report.embedded}


def _fail(job: Job | None, error: str, *, retry: bool) -> None:
    if job is None:
        return
    job.meta["error"] = error
    job.save_meta()
    if not retry:
        job.retries_left = 0  # RQ reads this from the same Job object to decide on a retry


def check(collections: list[str] | None = None, repair: bool = False) -> dict[str, Any]:
    """Run ``docqa check`` over ``collections`` (None: every one), repairing when ``repair``
    (``POST /admin/checks``): the report (``ingest.check_report``) is the job's result, kept by
    RQ; its progress is in ``job.meta``. A store out of reach fails it, with the reason."""
    job = get_current_job()
    context = _services or preload(Settings())

    def progress(stage: str, done: int, total: int | None) -> None:
        if job is not None:
            job.meta["progress"] = {"stage": stage, "done": done, "total": total}
            job.save_meta()

    with request_context(job.meta.get("request_id") if job is not None else None):
        try:
            stores = wiring.check_stores(context)
            report = check_report.run(stores, collections, repair=repair, progress=progress)
        except DocqaError as exc:
            _fail(job, exc.detail, retry=False)
            raise
        summary = report.summary
        log.info("check ended: %d differences", sum(summary.found.values()))
        return report.to_json()
