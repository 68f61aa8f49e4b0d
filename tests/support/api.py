"""Small HTTP helpers the integration tests share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from docqa.core.waiting import wait_until

ENDED = ("finished", "failed")
SENTENCE = "Sentence {i} says that the number {i} is followed by the number {j}. "


class Answer(Protocol):
    """An HTTP response: httpx's, or a ``TestClient``'s (Starlette's, on httpx2)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self, **kwargs: Any) -> Any: ...


def wait_for_job(
    api: httpx.Client,
    job_id: str,
    timeout_s: float = 180,
    *,
    until: Callable[[dict[str, Any]], bool] | None = None,
    what: str = "to end",
    interval: float = 0.2,
) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until the job has ended (finished or failed), or, with
    ``until``, until ``until(job)`` holds; returns the job. ``TimeoutError`` (naming the job,
    ``what`` was awaited, and the job as last seen) after ``timeout_s``; ``AssertionError`` when
    the job ends before ``until`` held."""
    seen: list[dict[str, Any]] = [{}]

    def reached() -> dict[str, Any] | None:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").raise_for_status().json()
        seen.append(job)
        if until is None:
            return job if job["state"] in ENDED else None
        if until(job):
            return job
        assert job["state"] not in ENDED, f"job {job_id} ended before {what}: {job}"
        return None

    return wait_until(
        reached,
        timeout_s,
        lambda: f"job {job_id} {what} (last seen: {seen[-1]})",
        interval=interval,
    )


def start_long_job(api: httpx.Client, collection: str, document_id: str = "long") -> str:
    """POST a document of a few hundred chunks and return its job's id once the job is under
    way, less than half done: the moment a fault test cuts it off."""
    text = "".join(SENTENCE.format(i=i, j=i + 1) for i in range(3000))
    response = api.post(
        "/documents",
        json={"collection": collection, "documents": [{"id": document_id, "text": text}]},
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    wait_for_job(
        api,
        job_id,
        120,
        until=lambda job: (
            job["state"] == "started"
            and 0 < job["progress"]["done"] < job["progress"]["total"] // 2
        ),
        what="to get under way",
        interval=0.05,
    )
    return job_id


def ingest(api: httpx.Client, collection: str, *documents: dict[str, Any]) -> dict[str, Any]:
    """POST JSON documents, wait for their job, and return it (finished or failed)."""
    response = api.post("/documents", json={"collection": collection, "documents": documents})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert job_id, response.json()
    return wait_for_job(api, job_id)


def chunks(api: httpx.Client, collection: str, document_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/documents/{document_id}/chunks", params={"collection": collection})
    assert response.status_code == 200, response.text
    return list(response.json())


def assert_stored_once(api: httpx.Client, collection: str, document_id: str) -> None:
    """The document is indexed and each of its chunks is stored once, positions 0..n-1."""
    record = api.get(f"/documents/{document_id}", params={"collection": collection}).json()
    assert record["status"] == "indexed", record
    stored = chunks(api, collection, document_id)
    assert len(stored) == record["chunks"] > 0
    assert [c["position"] for c in stored] == list(range(len(stored)))
    assert len({c["id"] for c in stored}) == len(stored)


def assert_problem(response: Answer, status: int, mentions: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    assert mentions.lower() in body["detail"].lower(), body
