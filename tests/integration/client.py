"""Small HTTP helpers the integration tests share."""

from __future__ import annotations

import time
from typing import Any

import httpx


def wait_for_job(api: httpx.Client, job_id: str, timeout_s: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").raise_for_status().json()
        if job["state"] in ("finished", "failed"):
            return dict(job)
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} still {job['state']} after {timeout_s} s: {job}")


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


def assert_problem(response: httpx.Response, status: int, mentions: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    assert mentions.lower() in body["detail"].lower(), body
