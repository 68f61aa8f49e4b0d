"""HTTP plumbing shared by the TEI adapters (``docqa.adapters.tei``, ``tei_reranker``): retries,
error mapping, ``GET /info``, ``GET /health`` and batches that split when the server refuses
their size."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from docqa.core.errors import Unavailable, UpstreamError

log = logging.getLogger(__name__)

RETRYABLE = frozenset({429, 503})
T = TypeVar("T")


def error_message(response: httpx.Response) -> str:
    """TEI's ``error`` (or an OpenAI-style ``message``), else the body text, else the reason."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    text = response.text.strip()
    return text[:500] if text else f"HTTP {response.status_code} {response.reason_phrase}"


def is_batch_size_error(status: int, message: str) -> bool:
    return status == 413 or (status == 422 and "batch size" in message.lower())


@dataclass(frozen=True)
class Info:
    """What the adapters use of ``GET /info``; the batch limits default as TEI's do."""

    model_id: str
    model_type: str | None  # "embedding", "reranker" or "classifier"
    max_input_length: int
    max_client_batch_size: int
    max_batch_tokens: int


class TeiHttp:
    """One TEI server behind ``client`` (its ``base_url`` and timeouts). ``attempts`` is the number
    of tries for a retryable failure; the waits are ``backoff_s * 2**n``, capped at
    ``max_backoff_s``. Errors name ``service``."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        service: str,
        api_key: str | None = None,
        attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep

    def info(self) -> Info:
        response = self.request("GET", "/info")
        if not response.is_success:
            raise self.upstream_error(response)
        info = self.json(response, "/info")
        try:
            model_type = info.get("model_type")
            return Info(
                model_id=str(info["model_id"]),
                model_type=next(iter(model_type), None) if isinstance(model_type, dict) else None,
                max_input_length=int(info["max_input_length"]),
                max_client_batch_size=max(1, int(info.get("max_client_batch_size") or 32)),
                max_batch_tokens=max(1, int(info.get("max_batch_tokens") or 16384)),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"unexpected /info answer: {exc!r}", service=self.service) from exc

    def check(self) -> None:
        """``GET /health`` once, no retries: anything but 200 is ``Unavailable``."""
        try:
            response = self._client.get("/health", headers=self._headers)
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach TEI: {exc!r}", service=self.service) from exc
        if response.status_code != 200:
            raise Unavailable(
                error_message(response), service=self.service, status=response.status_code
            )

    def post_split(
        self,
        path: str,
        texts: list[str],
        body: Callable[[list[str]], dict[str, Any]],
        decode: Callable[[list[Any]], list[T]],
    ) -> list[T]:
        """POST ``body(texts)``, expecting one answer per text, and ``decode`` the answers. On a
        batch-size error, halve the batch and go on (recursively)."""
        response = self.request("POST", path, json=body(texts))
        if response.is_success:
            answers = self.json(response, path)
            if not isinstance(answers, list) or len(answers) != len(texts):
                detail = f"{path} answered {type(answers).__name__} for {len(texts)} inputs"
                raise UpstreamError(detail, service=self.service, status=response.status_code)
            return decode(answers)
        message = error_message(response)
        if len(texts) > 1 and is_batch_size_error(response.status_code, message):
            log.info("TEI refused a batch of %d (%s); splitting it", len(texts), message)
            half = len(texts) // 2
            return self.post_split(path, texts[:half], body, decode) + self.post_split(
                path, texts[half:], body, decode
            )
        raise self.upstream_error(response)

    def request(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """Send, retrying 429/503 and transport errors; return any other answer."""
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._client.request(method, path, json=json, headers=self._headers)
            except httpx.TransportError as exc:
                problem, status = f"cannot reach TEI: {exc!r}", None
            else:
                if response.status_code not in RETRYABLE:
                    return response
                problem, status = error_message(response), response.status_code
            if attempt == self._attempts:
                raise Unavailable(problem, service=self.service, status=status)
            wait = min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s)
            log.warning("TEI %s %s: %s; retry %d in %.1fs", method, path, problem, attempt, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(f"{path} answered non-JSON", service=self.service) from exc

    def upstream_error(self, response: httpx.Response) -> UpstreamError:
        return UpstreamError(
            error_message(response), service=self.service, status=response.status_code
        )
