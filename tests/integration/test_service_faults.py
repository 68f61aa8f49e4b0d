"""Chroma or Redis going away under a running stack.

These tests stop and restart services, so they run on a private stack of their own (not the
session one, which other tests share), with short job retry intervals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from support.api import (
    assert_problem,
    assert_stored_once,
    chunks,
    start_long_job,
    wait_for_job,
)
from support.stacks import QUICK_RETRIES, private_stack


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with private_stack(
        tmp_path_factory, "faulty-stack", why="it stops services", extra_env=QUICK_RETRIES
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(faulty_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=faulty_stack.base_url, timeout=120) as api:
        yield api


def _collection() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _worker_log(stack: Stack) -> Path:
    return stack.data_dir / "logs" / "worker.log"


def _redis_complaints(log: Path, offset: int) -> list[dict[str, Any]]:
    """Warnings and errors naming Redis that the worker logged after byte ``offset``."""
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:  # not ours (RQ's own lines), or still being written
            continue
        if not isinstance(record, dict):
            continue
        said = f"{record.get('message', '')} {record.get('exc', '')}".lower()
        if record.get("level") in ("WARNING", "ERROR", "CRITICAL") and "redis" in said:
            found.append(record)
    return found


def test_chroma_down_makes_reads_503_and_ingest_retry(
    faulty_stack: Stack, client: httpx.Client
) -> None:
    collection = _collection()
    faulty_stack.stop_service("chroma")
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        checks = ready.json()["checks"]
        assert checks["chroma"] != "ok" and checks["redis"] == "ok", checks

        search = client.post("/search", json={"question": "what follows 3?", "collection": "x"})
        assert_problem(search, 503, "chroma")

        text = "Chroma was down when this document arrived. It is indexed all the same."
        response = client.post(
            "/documents",
            json={"collection": collection, "documents": [{"id": "late", "text": text}]},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        job = wait_for_job(
            client,
            job_id,
            60,
            until=lambda job: "retry" in (job["error"] or ""),
            what="to report a retry",
        )
        assert job["state"] in ("queued", "started"), job
        assert "chroma" in job["error"].lower(), job
    finally:
        faulty_stack.start_service("chroma")

    job = wait_for_job(client, job_id, timeout_s=60)
    assert job["state"] == "finished", job
    assert_stored_once(client, collection, "late")
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready" and set(ready.json()["checks"].values()) == {"ok"}


def test_redis_restarted_mid_ingest(faulty_stack: Stack, client: httpx.Client) -> None:
    collection = _collection()
    job_id = start_long_job(client, collection)

    # Keep Redis down until the worker has met the outage (its job's next step, the lock
    # renewal or the progress, finds Redis gone, which is the fault under test) and said so.
    log = _worker_log(faulty_stack)
    offset = log.stat().st_size
    faulty_stack.stop_service("redis")  # SIGTERM: the append-only file keeps queue and catalog
    try:
        met = wait_until(
            lambda: _redis_complaints(log, offset),
            90,
            "the worker to meet the Redis outage (a warning naming Redis in its log)",
        )
    finally:
        faulty_stack.start_service("redis")
    print("the worker met the outage:", *(r["message"] for r in met[:3]), sep="\n  ")

    job = wait_for_job(client, job_id, timeout_s=120)
    assert job["state"] == "finished", job
    assert faulty_stack.procs["worker"].poll() is None, "the worker died with Redis"
    assert_stored_once(client, collection, "long")
    assert len(chunks(client, collection, "long")) == job["progress"]["total"]

    # and the worker still takes new work
    response = client.post(
        "/documents",
        json={"collection": collection, "documents": [{"id": "after", "text": "After Redis."}]},
    )
    assert wait_for_job(client, response.json()["job_id"], timeout_s=60)["state"] == "finished"
    assert_stored_once(client, collection, "after")
