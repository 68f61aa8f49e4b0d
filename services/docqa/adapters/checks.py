"""``docqa check`` as a job on the ingest queue (RQ): what ``POST /admin/checks`` enqueues and
``GET /admin/checks/{id}`` reads back (the ``CheckRuns`` port).

The job (``docqa.worker.jobs.check``, enqueued by dotted path) goes on the ingest queue, so
every worker runs it as it runs ingest jobs, one at a time. Its report is its return value,
which RQ keeps in the queue's Redis for ``REPORT_TTL_S`` after it ends (a failed check's error,
in ``job.meta``, as long); after that its id is unknown (404). Its progress is in ``job.meta``
(``stage``, ``done``, ``total``), written by the job as it goes. It is not retried: a store that
cannot be reached fails it with the reason, and the operator posts another. A Redis outage is
``Unavailable`` naming the job queue.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from docqa.adapters import _redis
from docqa.core.errors import NotFound, Unavailable
from docqa.core.ports import CheckState, CheckView

CHECK_JOB = "docqa.worker.jobs.check"
REPORT_TTL_S = 7 * 24 * 3600
TIMEOUT_S = 12 * 3600  # a million chunks, repaired, with room to spare

P = ParamSpec("P")
R = TypeVar("R")

_STATES: dict[JobStatus, CheckState] = {
    JobStatus.CREATED: "queued",
    JobStatus.QUEUED: "queued",
    JobStatus.DEFERRED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.STARTED: "running",
    JobStatus.FINISHED: "done",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed",
    JobStatus.CANCELED: "failed",
}


def _queue_reachable(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except _redis.OUTAGES as exc:
            detail = f"the job queue (redis) is unavailable: {exc}"
            raise Unavailable(detail, service="redis") from exc

    return wrapper


class RedisCheckRuns:
    """Checks on ``queue`` (the ingest queue, on RQ's own client)."""

    def __init__(self, queue: Queue, timeout_s: int = TIMEOUT_S) -> None:
        self._queue = queue
        self._timeout_s = timeout_s

    @_queue_reachable
    def start(
        self, collections: list[str] | None, repair: bool, request_id: str | None = None
    ) -> CheckView:
        job = self._queue.enqueue_call(
            CHECK_JOB,
            kwargs={"collections": collections, "repair": repair},
            timeout=self._timeout_s,
            job_id=uuid.uuid4().hex,
            result_ttl=REPORT_TTL_S,
            failure_ttl=REPORT_TTL_S,
            meta={
                "check": {"collections": collections, "repair": repair},
                "progress": {"stage": "", "done": 0, "total": None},
                "request_id": request_id,
            },
        )
        return _view(job, None)

    @_queue_reachable
    def status(self, check_id: str) -> CheckView:
        unknown = NotFound(f"check {check_id!r} does not exist (or its report has expired)")
        try:
            job = Job.fetch(check_id, connection=self._queue.connection)
        except NoSuchJobError:
            raise unknown from None
        if job.func_name != CHECK_JOB:  # an ingest job's id
            raise unknown
        state = _STATES.get(job.get_status() or JobStatus.QUEUED, "queued")
        report = job.return_value() if state == "done" else None
        return _view(job, report if isinstance(report, dict) else None)


def _view(job: Job, report: dict[str, Any] | None) -> CheckView:
    state = _STATES.get(job.get_status(refresh=False) or JobStatus.QUEUED, "queued")
    asked = job.meta.get("check", {})
    progress = job.meta.get("progress", {})
    error = None
    if state == "failed":
        error = job.meta.get("error") or _last_line(job.exc_info) or "the check was stopped"
    total = progress.get("total")
    return CheckView(
        id=job.id,
        state=state,
        collections=asked.get("collections"),
        repair=bool(asked.get("repair", False)),
        stage=str(progress.get("stage", "")),
        done=int(progress.get("done", 0)),
        total=None if total is None else int(total),
        report=report,
        error=error,
        enqueued_at=job.enqueued_at,
        started_at=job.started_at,
        ended_at=job.ended_at,
    )


def _last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else None
