"""Metrics of the API and the worker, and a request id that follows a document into its job."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue

from docqa.core.config import Settings
from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from support.api import wait_for_job

Samples = list[tuple[str, dict[str, str], float]]


def samples(text: str) -> Samples:
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(found: Samples, name: str, **labels: str) -> float:
    matching = [v for n, ls, v in found if n == name and labels.items() <= ls.items()]
    assert matching, f"no {name} {labels}"
    return sum(matching)


def grew(after: Samples, before: Samples, name: str, **labels: str) -> float:
    """How much the samples ``name`` with ``labels`` grew (a series not there before: from 0)."""
    earlier = [v for n, ls, v in before if n == name and labels.items() <= ls.items()]
    return value(after, name, **labels) - sum(earlier)


def test_metrics_and_request_ids(api: httpx.Client, local_stack: Stack, collection: str) -> None:
    worker_metrics = f"http://127.0.0.1:{local_stack.worker_metrics_port}/metrics"
    api_before = samples(api.get("/metrics").raise_for_status().text)
    worker_before = samples(httpx.get(worker_metrics, timeout=10).raise_for_status().text)
    rid = f"it-{uuid.uuid4().hex}"
    document = {"id": "owls", "text": "Owls hunt at night and turn their heads far around."}
    added = api.post(
        "/documents",
        json={"collection": collection, "documents": [document]},
        headers={"X-Request-ID": rid},
    )
    assert added.status_code == 202, added.text
    assert added.headers["x-request-id"] == rid
    assert wait_for_job(api, added.json()["job_id"])["state"] == "finished"

    search = api.post("/search", json={"question": "When do owls hunt?", "collection": collection})
    assert search.status_code == 200, search.text
    assert len(search.headers["x-request-id"]) == 32  # none given: one is made

    scraped = api.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(scraped.text)
    duration = "docqa_http_request_duration_seconds_count"
    # what this test did, counted once each (measured as growth: other tests ran before)
    assert grew(found, api_before, duration, route="/search", method="POST", status="200") == 1
    assert grew(found, api_before, duration, route="/documents", method="POST", status="202") == 1
    assert grew(found, api_before, duration, route="/jobs/{job_id}", method="GET") >= 1
    assert not [ls for n, ls, _ in found if n == duration and ls["route"] == "/metrics"]
    assert value(found, "docqa_ingest_jobs", state="finished") >= 1  # ours, at least
    assert grew(found, api_before, "docqa_embedding_batch_size_count") >= 1  # the question

    worker = httpx.get(worker_metrics, timeout=10)
    assert worker.status_code == 200
    from_worker = samples(worker.text)
    assert grew(from_worker, worker_before, "docqa_embedding_batch_size_count") >= 1
    ok = {"outcome": "ok"}
    assert grew(from_worker, worker_before, "docqa_embedding_duration_seconds_count", **ok) >= 1
    assert grew(from_worker, worker_before, "docqa_ingest_job_duration_seconds_count", **ok) == 1

    log = local_stack.data_dir / "logs" / "worker.log"

    def ours() -> list[dict[str, Any]]:
        """The worker's log lines with our request id, once both (start and end) are there."""
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        found = [line for line in lines if line.get("request_id") == rid]
        return found if len(found) >= 2 else []

    logged = wait_until(ours, 10, f"two worker log lines with request id {rid}")
    messages = [line["message"] for line in logged]
    assert any(m.startswith("ingest job started") for m in messages), messages
    assert any(m.startswith("ingest job ended ok") for m in messages), messages
    assert all(f"{collection}/owls" in line["documents"] for line in logged if "documents" in line)


def test_the_queue_depth_is_the_number_of_jobs_waiting(
    api: httpx.Client, local_stack: Stack, collection: str
) -> None:
    """With no worker to take them, accepted jobs wait on the queue: the depth the API reports
    is the queue's length in Redis, one more per job. (``kill_worker`` returns once every
    process of the worker has ended: one still running would hold the dead worker's blocked
    dequeue open, and Redis would hand it the first job.) Counted from the length after the
    kill and checked by job id, so jobs other tests left queued change nothing."""

    def depth() -> float:
        return value(
            samples(api.get("/metrics").raise_for_status().text), "docqa_ingest_queue_depth"
        )

    queue = Queue(Settings().queue_name, connection=Redis(port=local_stack.redis_port))
    local_stack.kill_worker()
    job_ids: list[str] = []
    try:
        before = queue.count
        for n in range(2):
            document = {"id": "waiting", "text": f"Document {n} waits for a worker."}
            body = {"collection": f"{collection}{n}", "documents": [document]}
            added = api.post("/documents", json=body)
            assert added.status_code == 202, added.text
            job_ids.append(added.json()["job_id"])
        waiting = queue.count
        assert queue.get_job_ids(offset=before) == job_ids  # both wait, in order, at the end
        assert waiting == before + 2
        assert depth() == waiting
    finally:
        local_stack.start_worker()
    assert [wait_for_job(api, job_id)["state"] for job_id in job_ids] == ["finished"] * 2
