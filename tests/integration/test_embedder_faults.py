"""The embedding server answering 429 and 503 for a while: jobs slow down and finish; none fail.

A private stack (no generator) whose worker and API embed through the TEI adapter against the
TEI stub (``bench/tei_stub.py``, TEI's protocol, deterministic vectors). The stub is told to
answer ``/embed`` and ``/tokenize`` with 429 and 503 in turn for longer than the adapter's own
retries last (5 attempts, ~7.5 s of backoff), so some jobs fail an attempt and RQ runs them
again after the (short) retry intervals set here.
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
from bench.tei_stub import TeiStub

from docqa.stack import Stack, free_port
from integration.client import assert_stored_once

FAULT_S = 12.0  # longer than one call's retries (0.5 + 1 + 2 + 4 s), shorter than RQ's retries
RETRIES = 8
SENTENCE = "Sentence {i} of {doc} says that the number {i} is followed by the number {j}. "


@pytest.fixture(scope="module")
def tei(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeiStub]:
    if os.environ.get("BASE_URL"):
        pytest.skip("needs the stack started by the tests (not BASE_URL): it embeds with a stub")
    with TeiStub(log=tmp_path_factory.mktemp("tei-stub") / "tei.log") as stub:
        yield stub


@pytest.fixture(scope="module")
def tei_stack(tei: TeiStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(
        data_dir=tmp_path_factory.mktemp("tei-stack"),
        api_port=free_port(),
        quiet=True,
        generator=False,
        extra_env={
            "DOCQA_EMBEDDER": "tei",
            "DOCQA_TEI_URL": tei.url,
            "DOCQA_JOB_RETRY_INTERVALS_S": "[1, 2, 3]",
            "DOCQA_JOB_RETRIES": str(RETRIES),
        },
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(tei_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tei_stack.base_url, timeout=60) as api:
        yield api


def _documents(tag: str) -> list[list[dict[str, Any]]]:
    """Three requests: one long document (many chunks), then two of three short ones each."""
    long_text = "".join(SENTENCE.format(i=i, j=i + 1, doc=f"{tag}long") for i in range(300))
    return [
        [{"id": f"{tag}-long", "text": long_text}],
        *[
            [
                {"id": f"{tag}-{r}-{n}", "text": f"Short note {n} of batch {r}: the ferry sails."}
                for n in range(3)
            ]
            for r in (1, 2)
        ],
    ]


def _ingest_all(api: httpx.Client, collection: str, requests: list[list[dict[str, Any]]]) -> Any:
    """POST every request at once, then wait for all their jobs; returns (seconds, jobs, seen):
    ``seen`` holds every job state observed while waiting."""
    started = time.monotonic()
    job_ids = []
    for documents in requests:
        response = api.post("/documents", json={"collection": collection, "documents": documents})
        assert response.status_code == 202, response.text
        job_ids.append(response.json()["job_id"])
    seen: list[dict[str, Any]] = []
    jobs: dict[str, dict[str, Any]] = {}
    deadline = started + 90
    while len(jobs) < len(job_ids):
        assert time.monotonic() < deadline, f"jobs still running: {seen[-len(job_ids) :]}"
        for job_id in job_ids:
            if job_id in jobs:
                continue
            job = api.get(f"/jobs/{job_id}").raise_for_status().json()
            seen.append(job)
            if job["state"] in ("finished", "failed"):
                jobs[job_id] = job
        time.sleep(0.2)
    return time.monotonic() - started, [jobs[j] for j in job_ids], seen


def test_embedding_server_overloaded_for_a_while(tei: TeiStub, client: httpx.Client) -> None:
    # Without faults first: how long the same work takes.
    calm = f"t{uuid.uuid4().hex[:12]}"
    calm_s, calm_jobs, _ = _ingest_all(client, calm, _documents("calm"))
    assert [job["state"] for job in calm_jobs] == ["finished"] * 3, calm_jobs
    assert tei.counters()["faults"] == {}

    collection = f"t{uuid.uuid4().hex[:12]}"
    tei.faults([429, 503], for_s=FAULT_S, paths=["/embed", "/tokenize"])
    faulty_s, jobs, seen = _ingest_all(client, collection, _documents("busy"))
    counters = tei.counters()
    print(f"calm {calm_s:.1f} s, with faults {faulty_s:.1f} s; faults served {counters['faults']}")

    assert [job["state"] for job in jobs] == ["finished"] * 3, jobs
    assert not any(job["state"] == "failed" for job in seen)
    assert counters["faults"].get("429", 0) > 0 and counters["faults"].get("503", 0) > 0
    assert not counters["active"]
    # Nothing could be embedded while the faults lasted, so the jobs waited them out; at least
    # one job spent the adapter's retries and was run again by RQ.
    assert faulty_s >= FAULT_S * 0.9 > calm_s, (faulty_s, calm_s)
    assert any("will retry" in (job["error"] or "") for job in seen), seen
    assert min(job["retries_left"] for job in jobs) < RETRIES, jobs

    for documents in _documents("busy"):
        for document in documents:
            assert_stored_once(client, collection, document["id"])
    hits = client.post(
        "/search", json={"collection": collection, "question": "Which ferry sails?", "top_k": 3}
    ).json()["hits"]
    assert hits and all(hit["document_id"].startswith("busy-") for hit in hits), hits


def test_the_logs_show_the_adapters_retries(tei_stack: Stack) -> None:
    logs = Path(tei_stack.data_dir / "logs")
    worker = (logs / "worker.log").read_text(errors="replace")
    api = (logs / "api.log").read_text(errors="replace")
    assert "TEI POST /tokenize" in worker and "retry 1 in 0.5s" in worker
    # The stub alternates 429 and 503 over all its callers. The API embeds (a probe) while the
    # worker tokenizes, on the same backoff schedule, so each may see only one of the two.
    assert "Model is overloaded" in worker + api and "unhealthy" in worker + api
