"""A worker killed mid-job: the job is re-run and every chunk ends up stored exactly once."""

from __future__ import annotations

import time

import httpx

from docqa.stack import Stack
from integration.client import chunks, wait_for_job

SENTENCE = "Sentence {i} says that the number {i} is followed by the number {j}. "


def test_worker_killed_mid_job_is_recovered(
    api: httpx.Client, local_stack: Stack, collection: str
) -> None:
    text = "".join(SENTENCE.format(i=i, j=i + 1) for i in range(3000))  # a few hundred chunks
    response = api.post(
        "/documents", json={"collection": collection, "documents": [{"id": "long", "text": text}]}
    )
    job_id = response.json()["job_id"]

    deadline = time.monotonic() + 120
    while True:
        job = api.get(f"/jobs/{job_id}").json()
        if (
            job["state"] == "started"
            and 0 < job["progress"]["done"] < job["progress"]["total"] // 2
        ):
            break
        assert job["state"] in ("queued", "started") and time.monotonic() < deadline, job
        time.sleep(0.05)
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
