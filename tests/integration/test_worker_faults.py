"""A worker killed mid-job: the job is re-run and every chunk ends up stored exactly once."""

from __future__ import annotations

import httpx
import pytest
from redis import Redis
from rq.job import Job

from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from docqa.worker.recovery import alive_key
from support.api import chunks, start_long_job, wait_for_job
from support.stacks import private_stack


def test_worker_killed_mid_job_is_recovered(
    api: httpx.Client, local_stack: Stack, collection: str
) -> None:
    job_id = start_long_job(api, collection)
    local_stack.kill_worker()
    assert api.get(f"/jobs/{job_id}").json()["state"] == "started"  # cut off half-way

    local_stack.start_worker()
    job = wait_for_job(api, job_id)
    assert job["state"] == "finished", job
    stored = chunks(api, collection, "long")
    record = api.get("/documents/long", params={"collection": collection}).json()
    assert record["status"] == "indexed"
    assert len(stored) == record["chunks"] == job["progress"]["total"]
    assert [c["position"] for c in stored] == list(range(len(stored)))
    assert len({c["id"] for c in stored}) == len(stored)


def test_a_job_cut_off_under_one_pod_name_is_finished_by_another(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Kubernetes scale-in or a drained node: the pod is killed mid-job and its replacement has
    # another name, so nothing re-queues "its own" jobs at start. The other worker re-queues
    # the job once the dead one's liveness key expires (3 s here, 60 s by default).
    ttl = {"DOCQA_WORKER_HEARTBEAT_TTL_S": "3", "DOCQA_WORKER_NAME": "docqa-worker-pod-a"}
    with (
        private_stack(
            tmp_path_factory,
            "pods",
            why="kills its worker and starts one of another name",
            extra_env=ttl,
            generator=False,
        ) as stack,
        httpx.Client(base_url=stack.base_url, timeout=60) as api,
    ):
        job_id = start_long_job(api, "pods")
        stack.kill_worker()
        assert api.get(f"/jobs/{job_id}").json()["state"] == "started"  # cut off half-way

        stack.extra_env["DOCQA_WORKER_NAME"] = "docqa-worker-pod-b"
        stack.start_worker()
        redis = Redis.from_url(f"redis://127.0.0.1:{stack.redis_port}/0")
        # Up once it beats (its model loaded: 100 s on a busy 2-core machine); then the job
        # is re-queued within a TTL and re-run whole (41 s alone here, twice that when busy).
        wait_until(lambda: redis.exists(alive_key("docqa-worker-pod-b")), 180, "worker pod-b")
        job = wait_for_job(api, job_id, 300)
        assert job["state"] == "finished", job
        rq_job = Job.fetch(job_id, connection=redis)
        assert rq_job.worker_name == "docqa-worker-pod-b"
        assert rq_job.meta["abandoned"] == 1

        stored = chunks(api, "pods", "long")
        record = api.get("/documents/long", params={"collection": "pods"}).json()
        assert record["status"] == "indexed"
        assert len(stored) == record["chunks"] == job["progress"]["total"]
        assert [c["position"] for c in stored] == list(range(len(stored)))
        assert len({c["id"] for c in stored}) == len(stored)
