"""Re-queueing the started jobs of dead workers, on a real Redis (a fresh db, flushed): which
jobs count as abandoned, and that one is re-queued once however many workers look."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from docqa.adapters.catalog import LOCK_PREFIX, RedisCatalog
from docqa.stack.local import Stack
from docqa.worker.recovery import Heartbeat, alive_key, beat, recover_abandoned

DB = 8


@pytest.fixture
def redis(local_stack: Stack) -> Iterator[Redis]:
    client = Redis.from_url(f"redis://127.0.0.1:{local_stack.redis_port}/{DB}")
    client.flushdb()
    yield client
    client.flushdb()


def started_by(queue: Queue, worker: str) -> Job:
    """A job that worker ``worker`` has dequeued and started, as a worker killed mid-job
    leaves it."""
    queue.enqueue_call("builtins.len", args=("abc",), job_id=f"job-of-{worker}")
    rq_worker = SimpleWorker([queue], connection=queue.connection, name=worker)
    found = queue.dequeue_any([queue], timeout=None, connection=queue.connection)
    assert found is not None
    job = found[0]
    rq_worker.prepare_execution(job)
    rq_worker.prepare_job_execution(job)
    assert job.get_status(refresh=True) == JobStatus.STARTED
    return job


def test_only_jobs_of_workers_whose_key_expired_are_taken(redis: Redis) -> None:
    queue = Queue("test-recovery", connection=redis)
    catalog = RedisCatalog(redis, owner="pod-a")
    job = started_by(queue, "pod-a")
    beat(redis, "pod-a", 60)
    redis.set(LOCK_PREFIX + "c:doc", "pod-a:0123")  # a document lock pod-a held

    assert recover_abandoned(queue, "pod-b", others=True, catalog=catalog) == []  # pod-a lives
    assert recover_abandoned(queue, "pod-a", others=True, catalog=catalog) == []  # its own job
    assert recover_abandoned(queue, "pod-b", catalog=catalog) == []  # at start: pod-b's only

    redis.delete(alive_key("pod-a"))  # pod-a stopped beating: the key expired
    assert recover_abandoned(queue, "pod-b", others=True, catalog=catalog) == [job.id]
    assert recover_abandoned(queue, "pod-c", others=True, catalog=catalog) == []  # once only

    assert queue.job_ids == [job.id] and queue.started_job_registry.get_job_count() == 0
    again = Job.fetch(job.id, connection=redis)
    assert again.get_status() == JobStatus.QUEUED and again.meta["abandoned"] == 1
    assert not redis.exists(LOCK_PREFIX + "c:doc")
    assert not redis.exists(SimpleWorker.redis_worker_namespace_prefix + "pod-a")


def test_a_restarted_worker_takes_back_its_own_jobs_at_once(redis: Redis) -> None:
    queue = Queue("test-recovery", connection=redis)
    job = started_by(queue, "pod-a")
    beat(redis, "pod-a", 60)  # its previous incarnation's key has not even expired
    assert recover_abandoned(queue, "pod-a") == [job.id]
    assert queue.job_ids == [job.id]


def test_the_heartbeat_keeps_the_key_and_waits_a_ttl_before_looking(redis: Redis) -> None:
    queue = Queue("test-recovery", connection=redis)
    job = started_by(queue, "pod-a")  # pod-a has no key: dead
    heartbeat = Heartbeat(queue, "pod-b", ttl_s=3)
    up_since = heartbeat.tick(None)
    assert up_since is not None and 0 < redis.ttl(alive_key("pod-b")) <= 3
    assert queue.job_ids == []  # up for less than a TTL: live workers may not have beaten yet
    assert heartbeat.tick(up_since - 3) == up_since - 3  # up for a whole TTL
    assert queue.job_ids == [job.id]


def test_a_job_killed_while_its_retry_was_being_written_is_taken(redis: Redis) -> None:
    queue = Queue("test-recovery", connection=redis)
    job = started_by(queue, "pod-a")
    # RQ's Job.retry writes the status at once, the rest in a transaction the kill cut off
    job.set_status(JobStatus.SCHEDULED)
    assert recover_abandoned(queue, "pod-a") == [job.id]
    assert queue.job_ids == [job.id] and queue.started_job_registry.get_job_count() == 0


def test_a_job_scheduled_for_its_retry_is_left_to_the_scheduler(redis: Redis) -> None:
    queue = Queue("test-recovery", connection=redis)
    job = started_by(queue, "pod-a")
    job.set_status(JobStatus.SCHEDULED)
    queue.scheduled_job_registry.schedule(job, datetime.now(UTC) + timedelta(seconds=5))
    assert recover_abandoned(queue, "pod-a") == []
    assert queue.job_ids == []  # queued by the scheduler when its time comes, not twice
