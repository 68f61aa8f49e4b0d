"""Jobs cut off by a worker's death, found and put back on the queue, whatever the name of
the worker that finds them.

What RQ 3 does by itself (``rq/registry.py``, ``rq/worker/``), and why docqa does more:

- A started job sits in its queue's ``StartedJobRegistry`` (``rq:wip:<queue>``, a sorted set of
  ``<job id>:<execution id>`` scored by an expiry time), its hash names the worker
  (``job.worker_name``).
- RQ's own cleanup (``StartedJobRegistry.cleanup``, run by one worker's maintenance every
  ``maintenance_interval``, 10 min by default) takes an expired entry for a dead worker's job
  (``AbandonedJobError``): the job is retried when it has retries left (``job.retry``: one is
  used up and the job waits for its ``Retry`` interval in the scheduled registry), else failed.
- The expiry is pushed back by heartbeats every ``job_monitoring_interval`` (30 s) only by the
  forking ``Worker``. docqa runs ``SimpleWorker`` (jobs run in the process that holds the
  model), which sends none while a job runs: the entry's expiry is set once, at the start, to
  the job's timeout plus 60 s (``SimpleWorker.get_heartbeat_ttl``; 3,660 s with
  ``DOCQA_JOB_TIMEOUT_S=3600``), and the worker's key ``rq:worker:<name>`` lives as long.
  So a job whose worker never comes back under its name (a pod stopped on scale-in or on a
  drained node, a new pod name) would wait more than an hour, then count as a failed attempt.

So each docqa worker also keeps a liveness key of its own, ``docqa:worker:alive:<name>``,
renewed every third of ``DOCQA_WORKER_HEARTBEAT_TTL_S`` by a thread (``Heartbeat``) that runs
whether or not a job does. A started job whose worker's key has expired is re-queued, at the
front, by whichever worker sees it first (the claim is one WATCH/MULTI on the job's hash, so
two workers never both re-queue it); the dead worker's document locks and registration go too.
Its chunk ids are deterministic, so the re-run stores every chunk once. A worker looks at other
workers' jobs only after its own heartbeats have succeeded for a whole TTL (after a Redis
outage every live worker needs that long to renew its key). A re-queue uses no retry (a worker
stopped on scale-in is not the job's fault); ``job.meta["abandoned"]`` counts them.

At start, a worker re-queues at once the started jobs of its own name (a restarted container
keeps its name: nothing else can be running them).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError, WatchError
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from docqa.core.ports import Catalog

log = logging.getLogger(__name__)

ALIVE_PREFIX = "docqa:worker:alive:"


def alive_key(name: str) -> str:
    return ALIVE_PREFIX + name


def beat(redis: Redis, name: str, ttl_s: int) -> None:
    """Say that worker ``name`` is alive for the next ``ttl_s`` seconds."""
    redis.set(alive_key(name), str(time.time()), ex=ttl_s)


def forget_worker(redis: Redis, name: str) -> None:
    """Drop RQ's registration of worker ``name`` (dead), which would otherwise linger."""
    key = SimpleWorker.redis_worker_namespace_prefix + name
    redis.delete(key)
    redis.srem(SimpleWorker.redis_workers_keys, key)


def requeue(queue: Queue, job: Job) -> bool:
    """Put a started job back at the front of ``queue`` and out of the started registry, in
    one transaction; False when the job changed meanwhile (finished, re-queued by another
    worker, wrote progress: then it is not abandoned)."""
    registry = queue.started_job_registry
    with queue.connection.pipeline() as pipe:
        try:
            pipe.watch(job.key)
            executions = [execution.composite_key for execution in job.get_executions()]
            started = [key for key in executions if pipe.zscore(registry.key, key) is not None]
            if not started or not still_started(queue, job, pipe):
                return False
            job.meta["abandoned"] = int(job.meta.get("abandoned", 0)) + 1
            pipe.multi()
            queue.enqueue_job(job, pipeline=pipe, at_front=True)  # saves the job, meta too
            pipe.zrem(registry.key, *started)
            pipe.execute()
        except WatchError:
            return False
    return True


def still_started(queue: Queue, job: Job, pipe: Pipeline) -> bool:
    """Whether ``job``, found in the started registry, is still started: its status says so,
    or says "scheduled" though the job is not in the scheduled registry. RQ 3's ``Job.retry``
    writes that status at once and the rest of the failure (the scheduled registry, leaving
    the started one) in a transaction after it: a worker killed in between left a job that
    nothing would run for the hour its started entry lasts (found by the chaos soak)."""
    status = job.get_status(refresh=True)
    if status == JobStatus.SCHEDULED:
        return pipe.zscore(queue.scheduled_job_registry.key, job.id) is None
    return status == JobStatus.STARTED


def recover_abandoned(
    queue: Queue, name: str, *, others: bool = False, catalog: Catalog | None = None
) -> list[str]:
    """Re-queue abandoned started jobs; returns their ids.

    ``others=False``: the jobs of worker ``name``'s previous incarnation (call it before
    ``name`` works). ``others=True`` (worker ``name`` is running): the jobs of any other worker
    whose liveness key has expired; their document locks in ``catalog`` are dropped."""
    redis = queue.connection
    recovered = []
    for job_id in queue.started_job_registry.get_job_ids(cleanup=False):
        job = queue.fetch_job(job_id)
        owner = job.worker_name if job is not None else None
        if job is None or not owner:
            continue
        if others:
            if owner == name or redis.exists(alive_key(owner)):
                continue
        elif owner != name:
            continue
        if requeue(queue, job):
            recovered.append(job.id)
            if owner != name:
                forget_worker(redis, owner)
                if catalog is not None:
                    catalog.release_locks_of(owner)
            log.warning("re-queued job %s, abandoned by worker %s", job.id, owner)
    return recovered


class Heartbeat(threading.Thread):
    """Renews this worker's liveness key every ``ttl_s / 3`` seconds and, once its beats have
    succeeded for ``ttl_s``, re-queues the jobs of workers whose keys expired."""

    def __init__(self, queue: Queue, name: str, ttl_s: int, catalog: Catalog | None = None) -> None:
        super().__init__(name=f"heartbeat-{name}", daemon=True)
        self.queue = queue
        self.worker = name
        self.ttl_s = ttl_s
        self.catalog = catalog
        self.stopped = threading.Event()

    def start(self) -> None:
        """Beat once before returning (so that no job of ours starts unannounced), then on."""
        with suppress(RedisError):
            beat(self.queue.connection, self.worker, self.ttl_s)
        super().start()

    def tick(self, up_since: float | None) -> float | None:
        """One beat (and, when due, one look for abandoned jobs); returns since when the beats
        have succeeded without a break (None: this one failed)."""
        now = time.monotonic()
        try:
            beat(self.queue.connection, self.worker, self.ttl_s)
        except RedisError as exc:
            log.warning("worker %s cannot renew its liveness key: %s", self.worker, exc)
            return None
        up_since = now if up_since is None else up_since
        if now - up_since >= self.ttl_s:
            try:
                recover_abandoned(self.queue, self.worker, others=True, catalog=self.catalog)
            except Exception:  # a job that cannot be read must not stop the beats
                log.exception("worker %s could not look for abandoned jobs", self.worker)
        return up_since

    def run(self) -> None:
        up_since: float | None = None
        while not self.stopped.is_set():
            up_since = self.tick(up_since)
            self.stopped.wait(self.ttl_s / 3)

    def stop(self) -> None:
        self.stopped.set()
