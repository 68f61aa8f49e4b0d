"""The ``Embedder`` over Hugging Face text-embeddings-inference (TEI), synchronous, on httpx.

Protocol facts handled here (TEI 1.x; checked against its router source and 1.9.3 OpenAPI):

- ``GET /info`` gives ``model_id``, ``max_input_length``, ``max_client_batch_size`` (default 32)
  and ``max_batch_tokens`` (default 16384). The vector size is not in it: one short probe text
  is embedded, once, the first time ``spec`` is read (or taken from the first ``embed``).
- ``POST /embed {"inputs": [...], "normalize": true, "truncate": true}`` answers ``[[float]]``
  in input order. Batches are split here: at most ``max_client_batch_size`` texts and at most
  ``max_batch_tokens`` *estimated* tokens (see ``estimate_tokens``).
- ``POST /tokenize {"inputs": [...], "add_special_tokens": false}`` answers one list of
  ``{"id", "text", "special", "start", "stop"}`` per input. ``start``/``stop`` are UTF-8 *byte*
  offsets (TEI calls tokenizers' ``encode``, not ``encode_char_offsets``; TEI issue #494), so
  they are turned into character offsets here.
- Errors are ``{"error": "...", "error_type": "Validation"}`` (the type's case varies; some
  proxies answer plain text). A batch over the server's limit is 413 up to TEI 1.8 and 422 from
  1.9 ("batch size 64 > maximum allowed batch size 32"); both make us halve the batch. A 413 is
  always split (it is also a proxy's body-size limit); a 422 only when its message is about the
  batch size, since 422 is also a tokenizer or input validation error.
- 429 (overloaded) and 503 (unhealthy), timeouts and connection errors are retried with
  exponential backoff; when the attempts are spent: ``Unavailable``. Any other error status
  (400 empty batch, 424 backend failure, other 4xx/5xx): ``UpstreamError`` with TEI's message.
- ``GET /health`` is 200 when ready. An ``--api-key`` server wants ``Authorization: Bearer``.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from docqa.errors import Unavailable, UpstreamError
from docqa.models import EmbeddingSpec
from docqa.ports import TokenSpans

log = logging.getLogger(__name__)

SERVICE = "tei"
RETRYABLE = frozenset({429, 503})
PROBE_TEXT = "dimension probe"


def estimate_tokens(text: str, max_input_length: int) -> int:
    """An upper bound on the tokens TEI will run for ``text``.

    No tokenizer in use (WordPiece, BPE, byte-level BPE, SentencePiece with byte fallback) makes a
    token of less than one UTF-8 byte, so the byte length plus two special tokens bounds the count;
    with ``truncate`` the server cuts at ``max_input_length``, which caps it.
    """
    return min(len(text.encode()) + 2, max_input_length)


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


def upstream_error(response: httpx.Response) -> UpstreamError:
    return UpstreamError(error_message(response), service=SERVICE, status=response.status_code)


def is_batch_size_error(status: int, message: str) -> bool:
    return status == 413 or (status == 422 and "batch size" in message.lower())


def byte_to_char_spans(text: str, spans: Sequence[tuple[int, int]]) -> TokenSpans:
    """Map UTF-8 byte offsets into ``text`` to character offsets (a start inside a character
    goes to that character, a stop inside one to the character's end)."""
    raw_len = len(text.encode())
    if raw_len == len(text):  # ASCII: bytes are characters
        return [(start, stop) for start, stop in spans]
    starts, offset = [], 0  # the byte offset where each character begins, then the end
    for char in text:
        starts.append(offset)
        offset += len(char.encode())
    starts.append(raw_len)
    return [(bisect_right(starts, start) - 1, bisect_left(starts, stop)) for start, stop in spans]


def _byte_spans(tokens: Any) -> list[tuple[int, int]]:
    """(start, stop) of the non-special tokens of one ``/tokenize`` answer, as TEI gives them."""
    try:
        return [
            (int(t["start"]), int(t["stop"]))
            for t in tokens
            if not t.get("special") and t.get("start") is not None
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpstreamError(f"unexpected /tokenize answer: {exc!r}", service=SERVICE) from exc


class TeiEmbedder:
    """Implements ``docqa.ports.Embedder``. Reads ``GET /info`` when constructed.

    ``client`` has the TEI server as its ``base_url`` and the timeouts to use. ``attempts`` is
    the number of tries for a retryable failure; the waits are ``backoff_s * 2**n``, capped at
    ``max_backoff_s``.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_key: str | None = None,
        attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._dimension: int | None = None

        response = self._request("GET", "/info")
        if not response.is_success:
            raise upstream_error(response)
        info = self._json(response, "/info")
        try:
            self.model_id = str(info["model_id"])
            self.max_input_length = int(info["max_input_length"])
            self.max_client_batch_size = max(1, int(info.get("max_client_batch_size") or 32))
            self.max_batch_tokens = max(1, int(info.get("max_batch_tokens") or 16384))
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"unexpected /info answer: {exc!r}", service=SERVICE) from exc

    @property
    def spec(self) -> EmbeddingSpec:
        if self._dimension is None:
            self._dimension = len(self._embed_batch([PROBE_TEXT])[0])
        return EmbeddingSpec(
            model_id=self.model_id,
            dimension=self._dimension,
            normalized=True,
            max_input_tokens=self.max_input_length,
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for batch in self._batches(texts, by_tokens=True):
            vectors.extend(self._embed_batch(batch))
        if vectors and self._dimension is None:
            self._dimension = len(vectors[0])
        return vectors

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        wanted = [text for text in texts if text]  # TEI refuses empty inputs; they have no tokens
        answers: list[Any] = []
        for batch in self._batches(wanted, by_tokens=False):
            answers.extend(self._post_split("/tokenize", batch, {"add_special_tokens": False}))
        found = iter(answers)
        return [
            byte_to_char_spans(text, _byte_spans(next(found))) if text else [] for text in texts
        ]

    def check(self) -> None:
        try:
            response = self._client.get("/health", headers=self._headers)
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach TEI: {exc!r}", service=SERVICE) from exc
        if response.status_code != 200:
            raise Unavailable(error_message(response), service=SERVICE, status=response.status_code)

    # Internals.

    def _batches(self, texts: Sequence[str], *, by_tokens: bool) -> Iterator[list[str]]:
        batch: list[str] = []
        tokens = 0
        for text in texts:
            cost = estimate_tokens(text, self.max_input_length) if by_tokens else 0
            full = len(batch) >= self.max_client_batch_size
            if batch and (full or tokens + cost > self.max_batch_tokens):
                yield batch
                batch, tokens = [], 0
            batch.append(text)
            tokens += cost
        if batch:
            yield batch

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        answers = self._post_split("/embed", batch, {"normalize": True, "truncate": True})
        try:
            return [[float(x) for x in vector] for vector in answers]
        except (TypeError, ValueError) as exc:
            raise UpstreamError(f"unexpected /embed answer: {exc!r}", service=SERVICE) from exc

    def _post_split(self, path: str, texts: list[str], options: dict[str, Any]) -> list[Any]:
        """POST ``texts``; on a batch-size error, halve the batch and go on (recursively)."""
        response = self._request("POST", path, json={"inputs": texts, **options})
        if response.is_success:
            answers = self._json(response, path)
            if not isinstance(answers, list) or len(answers) != len(texts):
                detail = f"{path} answered {type(answers).__name__} for {len(texts)} inputs"
                raise UpstreamError(detail, service=SERVICE, status=response.status_code)
            return answers
        message = error_message(response)
        if len(texts) > 1 and is_batch_size_error(response.status_code, message):
            log.info("TEI refused a batch of %d (%s); splitting it", len(texts), message)
            half = len(texts) // 2
            return self._post_split(path, texts[:half], options) + self._post_split(
                path, texts[half:], options
            )
        raise upstream_error(response)

    def _request(self, method: str, path: str, json: Any = None) -> httpx.Response:
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
                raise Unavailable(problem, service=SERVICE, status=status)
            wait = min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s)
            log.warning("TEI %s %s: %s; retry %d in %.1fs", method, path, problem, attempt, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _json(response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(f"{path} answered non-JSON", service=SERVICE) from exc
