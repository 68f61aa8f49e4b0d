"""Chroma or Redis going away under a running stack.

These tests stop and restart services, so they run on a private stack of their own (not the
session one, which other tests share), with short job retry intervals.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from docqa.stack import Stack, free_port
from integration.client import assert_problem, assert_stored_once, chunks, wait_for_job

SENTENCE = "Sentence {i} says that the number {i} is followed by the number {j}. "


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if os.environ.get("BASE_URL"):
        pytest.skip("needs the stack started by the tests (not BASE_URL): it stops services")
    with Stack(
        data_dir=tmp_path_factory.mktemp("faulty-stack"),
        api_port=free_port(),
        quiet=True,
        model_cache=Path.home() / ".cache" / "docqa" / "models",
        extra_env={"DOCQA_JOB_RETRY_INTERVALS_S": "[1, 2, 3]", "DOCQA_JOB_RETRIES": "8"},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(faulty_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=faulty_stack.base_url, timeout=120) as api:
        yield api


def _collection() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _upserts_logged(stack: Stack) -> int:
    """Chroma writes the worker has made (httpx logs each request to the worker's log)."""
    log = (stack.data_dir / "logs" / "worker.log").read_text(errors="replace")
    return log.count("/upsert")


def _wait_for(api: httpx.Client, job_id: str, ok: Any, what: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").raise_for_status().json()
        if ok(job):
            return job
        assert time.monotonic() < deadline, f"{what}: {job}"
        time.sleep(0.05)


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
        job = _wait_for(
            client,
            job_id,
            lambda job: "retry" in (job["error"] or ""),
            "the job never reported a retry",
        )
        assert job["state"] in ("queued", "started"), job
        assert "chroma" in job["error"].lower(), job
    finally:
        faulty_stack.start_service("chroma")

    job = wait_for_job(client, job_id, timeout_s=60)
    assert job["state"] == "finished", job
    assert_stored_once(client, collection, "late")
    assert client.get("/readyz").status_code == 200


def test_redis_restarted_mid_ingest(faulty_stack: Stack, client: httpx.Client) -> None:
    collection = _collection()
    text = "".join(SENTENCE.format(i=i, j=i + 1) for i in range(3000))  # a few hundred chunks
    response = client.post(
        "/documents", json={"collection": collection, "documents": [{"id": "long", "text": text}]}
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    _wait_for(
        client,
        job_id,
        lambda job: (
            job["state"] == "started"
            and 0 < job["progress"]["done"] < job["progress"]["total"] // 2
        ),
        "the job never got under way",
        timeout_s=120,
    )

    # Keep Redis down until the job has written its next batch to Chroma: its next step (the
    # lock renewal, the progress) then finds Redis gone, which is the fault under test.
    upserts = _upserts_logged(faulty_stack)
    faulty_stack.stop_service("redis")  # SIGTERM: the append-only file keeps queue and catalog
    try:
        deadline = time.monotonic() + 60
        while _upserts_logged(faulty_stack) == upserts and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)
    finally:
        faulty_stack.start_service("redis")

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
