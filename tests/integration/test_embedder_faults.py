"""The embedding server answering 429 and 503 for a while: jobs slow down and finish; none fail.

A private stack (no generator) whose worker and API embed through the TEI adapter against the
TEI stub (``bench/tei_stub/``, TEI's protocol, deterministic vectors). The stub is told to
answer ``/embed`` and ``/tokenize`` with 429 and 503 in turn for longer than the adapter's own
retries last (5 attempts, ~7.5 s of backoff), so some jobs fail an attempt and RQ runs them
again after the (short) retry intervals set here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bench.tei_stub import TeiStub

from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from support.api import assert_stored_once, ingest
from support.stacks import tei_stub_stack

FAULT_S = 12.0  # longer than one call's retries (0.5 + 1 + 2 + 4 s), shorter than RQ's retries
BRIEF_FAULT_S = 4.0  # shorter than one call's retries: the adapter alone waits it out
RETRIES = 8
SENTENCE = "Sentence {i} of {doc} says that the number {i} is followed by the number {j}. "


@pytest.fixture(scope="module")
def tei(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeiStub]:
    with TeiStub(log=tmp_path_factory.mktemp("tei-stub") / "tei.log") as stub:
        yield stub


@pytest.fixture
def calm_tei(tei: TeiStub) -> TeiStub:
    """The stub with no faults and its counters at zero, whatever ran before."""
    tei.reset()
    return tei


@pytest.fixture(scope="module")
def tei_stack(tei: TeiStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    why = "it embeds with a TEI stub"
    with tei_stub_stack(
        tmp_path_factory, "tei-stack", tei.url, why=why, retries=RETRIES
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

    def all_ended() -> bool:
        for job_id in job_ids:
            if job_id not in jobs:
                job = api.get(f"/jobs/{job_id}").raise_for_status().json()
                seen.append(job)
                if job["state"] in ("finished", "failed"):
                    jobs[job_id] = job
        return len(jobs) == len(job_ids)

    wait_until(all_ended, 90, lambda: f"the jobs to end (last seen: {seen[-len(job_ids) :]})")
    return time.monotonic() - started, [jobs[j] for j in job_ids], seen


def test_embedding_server_overloaded_for_a_while(calm_tei: TeiStub, client: httpx.Client) -> None:
    tei = calm_tei
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


def test_the_logs_show_the_adapters_retries(
    calm_tei: TeiStub, tei_stack: Stack, client: httpx.Client
) -> None:
    """A fault briefer than the adapter's own retries: the worker's adapter logs each retry
    with TEI's message, and the job finishes on its first attempt."""
    logs = tei_stack.data_dir / "logs"
    offsets = {name: (logs / f"{name}.log").stat().st_size for name in ("worker", "api")}
    calm_tei.faults([429, 503], for_s=BRIEF_FAULT_S, paths=["/embed", "/tokenize"])
    text = "A brief overload of the embedding server: the adapter waits it out by itself."
    job = ingest(client, f"t{uuid.uuid4().hex[:12]}", {"id": "brief", "text": text})
    assert job["state"] == "finished" and job["retries_left"] == RETRIES, job  # no RQ retry
    served = calm_tei.counters()["faults"]
    assert served.get("429", 0) > 0 and served.get("503", 0) > 0, served

    def since(name: str) -> str:
        with (logs / f"{name}.log").open("rb") as f:
            f.seek(offsets[name])
            return f.read().decode(errors="replace")

    worker, api = since("worker"), since("api")
    assert "TEI POST /tokenize" in worker and "retry 1 in 0.5s" in worker, worker[-2000:]
    # The stub alternates 429 and 503 over all its callers; only the worker calls it here.
    assert "Model is overloaded" in worker + api and "unhealthy" in worker + api
