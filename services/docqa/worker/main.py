"""The embedding worker process: preloads the embedder, recovers its own abandoned jobs, and
runs an RQ worker (with the scheduler, for retry intervals) on the ingest queue.

A worker has a stable name (``DOCQA_WORKER_NAME``, default the host name). When it starts, any
job still marked as started by a worker of the same name was cut off by that worker's death
(SIGKILL, OOM, a lost container), so it is put back on the queue at once. Jobs of workers that
never come back are handled by RQ's own abandoned-job cleanup once their heartbeat expires.
"""

from __future__ import annotations

import logging
import os
import socket

from prometheus_client import start_http_server
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import JobStatus

from docqa.adapters.catalog import RedisCatalog
from docqa.config import Settings
from docqa.observability import configure_logging
from docqa.worker import jobs

log = logging.getLogger(__name__)


def worker_name() -> str:
    return os.environ.get("DOCQA_WORKER_NAME") or socket.gethostname()


def recover_abandoned(queue: Queue, name: str) -> list[str]:
    """Requeue the jobs a previous incarnation of worker ``name`` left half-done."""
    registry = queue.started_job_registry
    recovered = []
    for job_id in registry.get_job_ids(cleanup=False):
        job = queue.fetch_job(job_id)
        if job is None or job.worker_name != name or job.get_status() != JobStatus.STARTED:
            continue
        with queue.connection.pipeline() as pipe:
            queue.enqueue_job(job, pipeline=pipe, at_front=True)  # RQ may WATCH first
            registry.remove_executions(job, pipeline=pipe)
            pipe.execute()
        recovered.append(job.id)
    return recovered


def clear_stale_registration(redis: Redis, name: str) -> None:
    """Forget a dead worker of our name, which would otherwise block our registration."""
    key = SimpleWorker.redis_worker_namespace_prefix + name
    redis.delete(key)
    redis.srem(SimpleWorker.redis_workers_keys, key)


def serve_metrics(port: int) -> None:
    """Serve this process's metrics (embedding batches, job durations) on ``port`` (0: off)."""
    if not port:
        return
    try:
        start_http_server(port)
    except OSError as exc:  # a port in use must not stop the worker from working
        log.warning("cannot serve metrics on port %d: %s", port, exc)
        return
    log.info("metrics on port %d", port)


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    serve_metrics(settings.worker_metrics_port)
    name = worker_name()
    context = jobs.preload(settings, name)
    redis = Redis.from_url(str(settings.redis_url))
    queue = Queue(settings.queue_name, connection=redis)
    clear_stale_registration(redis, name)
    RedisCatalog(redis).release_locks_of(name)
    for job_id in recover_abandoned(queue, name):
        log.warning("re-queued job %s, abandoned by a previous worker %s", job_id, name)
    log.info("worker %s ready: embedder %s", name, context.embedder.spec)
    # SimpleWorker runs jobs in this process, where the model is already loaded.
    SimpleWorker([queue], connection=redis, name=name).work(with_scheduler=True)


def is_registered() -> bool:
    """True when this host's worker is registered (and alive) in Redis: the container check."""
    settings = Settings()
    redis = Redis.from_url(str(settings.redis_url), socket_timeout=5)
    key = SimpleWorker.redis_worker_namespace_prefix + worker_name()
    return bool(redis.exists(key)) and not redis.hexists(key, "death")
