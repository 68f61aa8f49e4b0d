"""After the queue's Redis was killed and came back, a job that an outage then cut off is run
again within its retry interval, not ten minutes later.

RQ's scheduler, a child of the worker that moves jobs waiting for a retry back to the queue,
exits when the queue's Redis goes away, and RQ starts it again only at its next maintenance (by
default every 600 s). The chaos soak (``bench/chaos.py``) found 66 jobs waiting so after a
``kill:redis``; the worker now runs RQ's maintenance every ``MAINTENANCE_INTERVAL_S``.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from bench.tei_stub import TeiStub

from docqa.stack.local import Stack
from docqa.worker.main import MAINTENANCE_INTERVAL_S
from support.api import wait_for_job
from support.stacks import tei_stub_stack

FAULT_S = 12.0  # longer than the TEI adapter's own retries (~7.5 s): the job's attempt fails


@pytest.fixture(scope="module")
def tei(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeiStub]:
    with TeiStub(log=tmp_path_factory.mktemp("tei-stub") / "tei.log") as stub:
        yield stub


@pytest.fixture(scope="module")
def tei_stack(tei: TeiStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    why = "it kills the queue's Redis"
    with tei_stub_stack(tmp_path_factory, "sched", tei.url, why=why, retries=8) as running:
        yield running


def test_a_retry_after_the_queue_redis_restarted_runs_within_seconds(
    tei_stack: Stack, tei: TeiStub
) -> None:
    os.kill(tei_stack.procs["redis"].pid, signal.SIGKILL)
    time.sleep(3)  # long enough for the scheduler to meet the outage and exit
    tei_stack.procs["redis"].wait()
    tei_stack.start_service("redis")
    collection = f"t{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=tei_stack.base_url, timeout=60) as api:
        tei.faults([503], for_s=FAULT_S)
        body = {"collection": collection, "documents": [{"id": "d", "text": "After the outage."}]}
        posted = api.post("/documents", json=body)
        assert posted.status_code == 202, posted.text
        job_id = posted.json()["job_id"]
        # RQ's default maintenance (600 s) left it waiting ten minutes
        job = wait_for_job(api, job_id, FAULT_S + 4 * MAINTENANCE_INTERVAL_S + 30)
    assert job["state"] == "finished", job
    assert job["retries_left"] < 8  # an attempt did fail and was retried
