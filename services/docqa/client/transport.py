"""The API over HTTP (httpx): listing, posting batches, deleting, job progress, with retries.

429 (rate limited) and 503 (a dependency down) are retried with exponential backoff, waiting
at least what ``Retry-After`` says (seconds, or an HTTP date); so are connection errors. Other
answers are returned as they are: the caller decides (a 4xx of a batch is split to find the
document at fault).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from docqa.client.sources import Document

RETRIED = (429, 503)
PAGE = 1000


class Api:
    def __init__(
        self,
        client: httpx.Client,
        *,
        attempts: int = 8,
        backoff_s: float = 0.5,
        max_wait_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.retries = 0

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The answer, after retrying 429, 503 and connection errors up to ``attempts``."""
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError:
                if last:
                    raise
                self._wait(attempt, None)
                continue
            if response.status_code not in RETRIED or last:
                return response
            self._wait(attempt, response.headers.get("retry-after"))
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        self.retries += 1
        delay = min(self.backoff_s * 2**attempt, self.max_wait_s)
        self.sleep(max(delay, retry_after_s(retry_after)))

    def stored(self, collection: str) -> Iterator[tuple[str, str, str]]:
        """(id, content hash, status) of every document of ``collection``, a page at a time."""
        offset = 0
        while True:
            params = {"collection": collection, "offset": offset, "limit": PAGE}
            response = self.request("GET", "/documents", params=params)
            if response.status_code == 404:
                return
            page = checked(response).json()
            for item in page["items"]:
                yield item["id"], item["content_hash"], item["status"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def post(self, collection: str, batch: list[Document]) -> httpx.Response:
        """One batch: files as a multipart form with their ids, texts as JSON."""
        if batch[0].is_file:
            return self.request(
                "POST",
                "/documents",
                data={"collection": collection, "ids": [d.id for d in batch]},
                files=[("files", (d.filename, d.data)) for d in batch],
            )
        documents = [
            {"id": d.id, "text": d.text, "title": d.title, "metadata": d.metadata} for d in batch
        ]
        return self.request(
            "POST", "/documents", json={"collection": collection, "documents": documents}
        )

    def delete(self, collection: str, document_id: str) -> httpx.Response:
        path = f"/documents/{quote(document_id, safe='/')}"
        return self.request("DELETE", path, params={"collection": collection})

    def job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = checked(self.request("GET", f"/jobs/{job_id}")).json()
        return result


def retry_after_s(value: str | None) -> float:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3); 0 if none."""
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - time.time())


def reason(response: httpx.Response) -> str:
    """What the server said was wrong: a problem's detail, else the body's start."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return f"{response.status_code}: {response.text[:200]}"
    detail = body.get("detail") if isinstance(body, dict) else None
    said = detail if isinstance(detail, str) else json.dumps(detail)[:300]
    return f"{response.status_code}: {said}"


def checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    raise RuntimeError(f"{response.request.method} {response.request.url.path}: {reason(response)}")


Batch = TypeVar("Batch")


def in_flight(batches: Iterable[Batch], send: Callable[[Batch], None], limit: int) -> None:
    """``send`` each batch from a pool of ``limit`` threads, at most ``limit`` at a time (the
    next batch is read only when one finishes); the first error raised by a send is raised."""
    with ThreadPoolExecutor(max_workers=limit) as pool:
        pending: set[Future[None]] = set()
        for batch in batches:
            if len(pending) >= limit:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
            pending.add(pool.submit(send, batch))
        for future in pending:
            future.result()
