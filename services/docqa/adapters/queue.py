"""The ingest queue: RQ on Redis.

Jobs are enqueued by dotted path (``docqa.worker.jobs.ingest``), so the API process never
imports extraction or model code. Retries are RQ's ``Retry``; a job reports its progress and
error text in ``job.meta``, which ``status()`` reads back. A Redis outage (refused, reset, timed
out) is ``Unavailable(service="redis")`` from every method (``adapters._redis``).

A job's documents are not its RQ arguments. RQ keeps a job's arguments in its hash for as long
as it keeps its status (``result_ttl``: a week here, so that ``GET /jobs/{id}`` answers), so the
queue's Redis held a copy of every document ingested that week: 390 MiB at a million chunks in
the scale bench, 3.7 MB per job of 100 documents. They are stored under
``docqa:job-payload:<job id>`` (pickled ``PendingDocument.to_job()`` dicts, as RQ would pickle
them) in the same transaction as the job, whose one argument is that key; the worker deletes it
once the job has succeeded (``drop_payload``), and a failed job keeps it for its retries, for
``failure_ttl``. A job of the previous release, its documents as its argument, still runs.
"""

from __future__ import annotations

import contextlib
import pickle
import uuid
from typing import Any, cast

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from docqa.adapters import _redis
from docqa.core.errors import NotFound
from docqa.core.models import JobState, JobView, PendingDocument

__all__ = [
    "INGEST_JOB",
    "PAYLOAD_PREFIX",
    "IngestQueue",
    "JobState",
    "JobView",
    "drop_payload",
    "load_payload",
]

INGEST_JOB = "docqa.worker.jobs.ingest"
PAYLOAD_PREFIX = "docqa:job-payload:"
RESULT_TTL_S, FAILURE_TTL_S = 7 * 24 * 3600, 30 * 24 * 3600

# RQ's finer states, as a user sees them: waiting for a retry is still "queued".
_STATES: dict[JobStatus, JobState] = {
    JobStatus.CREATED: "queued",
    JobStatus.QUEUED: "queued",
    JobStatus.DEFERRED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.STARTED: "started",
    JobStatus.FINISHED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed",
    JobStatus.CANCELED: "failed",
}


class IngestQueue:
    def __init__(
        self, redis: Redis, name: str, *, timeout_s: int, retries: int, intervals_s: list[int]
    ) -> None:
        self._queue = Queue(name, connection=redis)
        self._timeout_s = timeout_s
        self._retry = Retry(max=retries, interval=intervals_s) if retries else None

    @property
    def queue(self) -> Queue:
        return self._queue

    @_redis.guarded()
    def enqueue(
        self,
        documents: list[PendingDocument],
        *,
        job_id: str | None = None,
        pipeline: Pipeline | None = None,
        request_id: str | None = None,
    ) -> str:
        job_id = job_id or uuid.uuid4().hex
        key = PAYLOAD_PREFIX + job_id
        payload = pickle.dumps([document.to_job() for document in documents])
        if pipeline is None:  # stored first: a worker may take the job as soon as it is queued
            self._queue.connection.set(key, payload, ex=FAILURE_TTL_S)
        job = self._queue.enqueue_call(
            INGEST_JOB,
            args=(key,),
            timeout=self._timeout_s,
            job_id=job_id,
            pipeline=pipeline,
            retry=self._retry,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
            meta={
                "documents": [f"{d.collection}/{d.id}" for d in documents],
                "progress": {"done": 0, "total": 0},
                "request_id": request_id,
            },
        )
        if pipeline is not None:  # after RQ's commands: it may WATCH before it queues them
            pipeline.set(key, payload, ex=FAILURE_TTL_S)
        return job.id

    @_redis.guarded()
    def status(self, job_id: str) -> JobView:
        """An ingest job's; ``NotFound`` for any other id, a check's included (a check is
        reported by ``GET /admin/checks/{id}``, to admin keys only)."""
        unknown = NotFound(f"job {job_id!r} does not exist (or has expired)")
        try:
            job = Job.fetch(job_id, connection=self._queue.connection)
        except NoSuchJobError:
            raise unknown from None
        if job.func_name != INGEST_JOB:  # a check's id
            raise unknown
        state = _STATES.get(job.get_status() or JobStatus.QUEUED, "queued")
        progress = job.meta.get("progress", {})
        return JobView(
            id=job.id,
            state=state,
            done=int(progress.get("done", 0)),
            total=int(progress.get("total", 0)),
            documents=list(job.meta.get("documents", [])),
            error=job.meta.get("error") if state != "finished" else None,
            retries_left=job.retries_left or 0,
            enqueued_at=job.enqueued_at,
            started_at=job.started_at,
            ended_at=job.ended_at,
        )

    @_redis.guarded()
    def documents(self, job_id: str) -> list[PendingDocument] | None:
        """The documents job ``job_id`` indexes while their payload is kept (a queued or failed
        job's; None once it succeeded or expired): what ``docqa check --repair`` re-queues."""
        found = load_payload(self._queue.connection, PAYLOAD_PREFIX + job_id)
        return None if found is None else [PendingDocument.from_job(d) for d in found]

    @_redis.guarded()
    def counts(self) -> dict[str, int]:
        """Jobs in each of RQ's registries, by RQ's state names ("queued": the queue's depth)."""
        queue = self._queue
        registries = {
            "started": queue.started_job_registry,
            "finished": queue.finished_job_registry,
            "failed": queue.failed_job_registry,
            "scheduled": queue.scheduled_job_registry,
            "deferred": queue.deferred_job_registry,
        }
        found = {"queued": queue.count}
        found |= {name: r.get_job_count(cleanup=False) for name, r in registries.items()}
        return found


def load_payload(redis: Redis, key: str) -> list[dict[str, Any]] | None:
    """A job's documents (``to_job()`` dicts) from the key that is its argument; None once gone
    (dropped after success, or expired)."""
    raw = redis.get(key)  # RQ's client: bytes, written by enqueue (pickled, as RQ would)
    return None if raw is None else list(pickle.loads(cast(bytes, raw)))


def drop_payload(redis: Redis, key: str) -> None:
    """Forget a job's documents once it has succeeded: its status stays, they are indexed. A
    Redis that does not answer now leaves them to expire: the job has done its work."""
    with contextlib.suppress(RedisError):
        redis.delete(key)
