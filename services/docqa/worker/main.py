"""The embedding worker process: preloads the embedder, recovers its own abandoned jobs, and
runs an RQ worker (with the scheduler, for retry intervals) on the ingest queue.

A worker has a stable name (``DOCQA_WORKER_NAME``, default the host name). When it starts, any
job still marked as started by a worker of the same name was cut off by that worker's death
(SIGKILL, OOM, a lost container), so it is put back on the queue at once. Jobs of workers that
never come back (a pod stopped under a name that is not used again) are re-queued by another
worker once their liveness key expires (``worker/recovery.py``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time

from prometheus_client import start_http_server
from redis import Redis
from rq import SimpleWorker

from docqa import wiring
from docqa.core.config import Settings
from docqa.core.errors import Unavailable
from docqa.core.logs import configure_logging
from docqa.worker import jobs
from docqa.worker.recovery import Heartbeat, recover_abandoned

log = logging.getLogger(__name__)

RESTART_WAIT_S = 2.0
# How often RQ's maintenance runs, which also starts the scheduler again if it died. RQ's
# scheduler (a forked child, it moves jobs waiting for a retry back to the queue) exits when
# the queue's Redis goes away, and RQ's default (600 s) left every job cut off by that outage
# waiting ten minutes for its retry (found by the chaos soak, bench/chaos.py).
MAINTENANCE_INTERVAL_S = 15


def worker_name() -> str:
    return os.environ.get("DOCQA_WORKER_NAME") or socket.gethostname()


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
    # RQ's side (its own client, see wiring) and every other part, all from runtime.
    ingest = wiring.ingest_queue(settings, wiring.rq_client(settings))
    services = jobs.preload(settings, name, queue=ingest)
    queue, redis = ingest.queue, ingest.queue.connection
    log.info("worker %s ready: embedder %s", name, services.embedder.spec)
    # A liveness key that other workers watch (recovery.py), on a client of its own: RQ
    # stretches its client's socket timeout past its blocking dequeue.
    beats = wiring.ingest_queue(settings, wiring.redis_client(settings)).queue
    Heartbeat(beats, name, settings.worker_heartbeat_ttl_s, catalog=services.catalog).start()
    worker: SimpleWorker | None = None
    while worker is None or worker._shutdown_requested_date is None:  # set on SIGTERM/SIGINT
        try:
            wait_for_redis(redis)
            clear_stale_registration(redis, name)
            services.catalog.release_locks_of(name)
            for job_id in recover_abandoned(queue, name):
                log.warning("re-queued job %s, abandoned by a previous worker %s", job_id, name)
            # SimpleWorker runs jobs in this process, where the model is already loaded.
            worker = SimpleWorker(
                [queue], connection=redis, name=name, maintenance_interval=MAINTENANCE_INTERVAL_S
            )
            worker.work(with_scheduler=True)
            if worker._shutdown_requested_date is not None:  # a warm shutdown
                return
        except (*wiring.REDIS_OUTAGES, Unavailable) as exc:  # lost registering or tearing down
            log.warning("worker %s lost Redis: %s", name, exc)
        # RQ's work loop quits on an error it cannot handle, such as Redis going away while a
        # job runs. Start again once Redis is back: the cut-off job is re-queued above.
        stop_on_signal()  # RQ's handlers, still installed, expect a running work loop
        log.warning("worker %s stopped unexpectedly; restarting in %.0f s", name, RESTART_WAIT_S)
        time.sleep(RESTART_WAIT_S)


def stop_on_signal() -> None:
    def stop(signum: int, _: object) -> None:
        log.info("worker stopping on signal %d", signum)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def wait_for_redis(redis: Redis) -> None:
    """Block until Redis answers (it may be restarting)."""
    while True:
        try:
            redis.ping()
            return
        except wiring.REDIS_OUTAGES as exc:
            log.warning("waiting for Redis: %s", exc)
            time.sleep(RESTART_WAIT_S)


def is_registered() -> bool:
    """True when this host's worker is registered (and alive) in Redis: the container check."""
    settings = Settings()
    redis = wiring.redis_client(settings)
    key = SimpleWorker.redis_worker_namespace_prefix + worker_name()
    return bool(redis.exists(key)) and not redis.hexists(key, "death")
