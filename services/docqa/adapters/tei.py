"""The ``Embedder`` over Hugging Face text-embeddings-inference (TEI), synchronous, on httpx
(the shared HTTP handling is in ``docqa.adapters._tei_http``; the ``Reranker``, over
``POST /rerank``: ``docqa.adapters.tei_reranker``).

Protocol facts handled here (TEI 1.x; checked against its router source and 1.9.3 OpenAPI):

- ``GET /info`` gives ``model_id``, ``model_type`` (``{"embedding": ...}``, ``{"reranker": ...}``
  or ``{"classifier": ...}``), ``max_input_length``, ``max_client_batch_size`` (default 32) and
  ``max_batch_tokens`` (default 16384). The vector size is not in it: one short probe text
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

Tokenizing in process: given ``tokenizer_path`` (the served model's ``tokenizer.json``, or its
directory), ``token_spans`` uses it (``docqa.adapters.tei_tokenizer``) instead of ``/tokenize``,
once it has given the same spans as ``/tokenize`` on ``tei_tokenizer.SAMPLE`` when constructed.
If it cannot be loaded or they disagree, ``/tokenize`` is used, a warning is logged and
``on_fallback(reason, detail)`` is called (reason ``"unloadable"``, ``"disagrees"``, or
``"unchecked"`` when ``/tokenize`` refused the sample). An outage during the check propagates
(``Unavailable``: the embedder is built again later, as when ``/info`` fails).
"""

from __future__ import annotations

import logging
import re
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from docqa.adapters._tei_http import TeiHttp
from docqa.adapters.tei_tokenizer import SAMPLE, FastTokenizer, TokenizerUnavailable, disagreement
from docqa.core.errors import Unavailable, UpstreamError
from docqa.core.models import EmbeddingSpec
from docqa.core.ports import TokenSpans

SERVICE = "tei"
PROBE_TEXT = "dimension probe"
_WIDE = re.compile(r"[^\x00-\x7f]")  # a character of more than one UTF-8 byte
log = logging.getLogger(__name__)


def estimate_tokens(text: str, max_input_length: int) -> int:
    """An upper bound on the tokens TEI will run for ``text``.

    No tokenizer in use (WordPiece, BPE, byte-level BPE, SentencePiece with byte fallback) makes a
    token of less than one UTF-8 byte, so the byte length plus two special tokens bounds the count;
    with ``truncate`` the server cuts at ``max_input_length``, which caps it.
    """
    return min(len(text.encode()) + 2, max_input_length)


def byte_to_char_spans(text: str, spans: TokenSpans) -> TokenSpans:
    """Map UTF-8 byte offsets into ``text`` to character offsets (a start inside a character
    goes to that character, a stop inside one to the character's end). ASCII text's spans are
    its characters' already: they are returned as they are (the same list).

    Only the characters of more than one byte move offsets, and prose has few, so the map is
    kept for those alone: the byte offset each starts at, and the bytes added up to its end."""
    if text.isascii():
        return spans
    wide: list[int] = []  # byte offset where each multi-byte character starts
    index: list[int] = []  # its character offset
    ends: list[int] = []  # the byte offset where it ends
    extra = 0
    for match in _WIDE.finditer(text):
        size = len(match.group().encode())
        wide.append(match.start() + extra)
        index.append(match.start())
        extra += size - 1
        ends.append(match.start() + extra + 1)
    raw_len = len(text) + extra

    def start_of(offset: int) -> int:
        if offset >= raw_len:
            return len(text)
        at = bisect_right(wide, offset) - 1
        if at < 0:
            return offset
        return index[at] if offset < ends[at] else offset - (ends[at] - index[at] - 1)

    def stop_of(offset: int) -> int:
        if offset > raw_len:
            return len(text) + 1
        at = bisect_left(wide, offset) - 1
        if at < 0:
            return offset
        return index[at] + 1 if offset < ends[at] else offset - (ends[at] - index[at] - 1)

    return [(start_of(start), stop_of(stop)) for start, stop in spans]


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


def _vectors(answers: list[Any]) -> list[list[float]]:
    try:
        return [[float(x) for x in vector] for vector in answers]
    except (TypeError, ValueError) as exc:
        raise UpstreamError(f"unexpected /embed answer: {exc!r}", service=SERVICE) from exc


class TeiEmbedder:
    """Implements ``docqa.core.ports.Embedder``. Reads ``GET /info`` when constructed.

    ``client`` has the TEI server as its ``base_url`` and the timeouts to use. ``attempts`` is
    the number of tries for a retryable failure; the waits are ``backoff_s * 2**n``, capped at
    ``max_backoff_s``. ``tokenizer_path`` and ``on_fallback``: see the module's docstring;
    ``tokenizer`` says which tokenizes (``"in-process"`` or ``"tei"``).
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
        tokenizer_path: Path | str | None = None,
        on_fallback: Callable[[str, str], None] | None = None,
    ) -> None:
        self._http = TeiHttp(
            client,
            service=SERVICE,
            api_key=api_key,
            attempts=attempts,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            sleep=sleep,
        )
        self._dimension: int | None = None
        info = self._http.info()
        self.model_id = info.model_id
        self.max_input_length = info.max_input_length
        self.max_client_batch_size = info.max_client_batch_size
        self.max_batch_tokens = info.max_batch_tokens
        self._local: FastTokenizer | None = None
        if tokenizer_path is not None:
            self._local = self._checked(tokenizer_path, on_fallback)

    @property
    def tokenizer(self) -> str:
        return "in-process" if self._local is not None else "tei"

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

    @property
    def additive(self) -> bool:
        """The in-process tokenizer's (``FastTokenizer.additive``); False through ``/tokenize``,
        whose tokenizer is not known here."""
        return self._local is not None and self._local.additive

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        if self._local is not None:
            return self._local.token_spans(texts)
        return self._tei_token_spans(texts)

    def _tei_token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        wanted = [text for text in texts if text]  # TEI refuses empty inputs; they have no tokens
        answers: list[Any] = []
        for batch in self._batches(wanted, by_tokens=False):
            answers.extend(
                self._http.post_split(
                    "/tokenize", batch, lambda b: {"inputs": b, "add_special_tokens": False}, list
                )
            )
        found = iter(answers)
        return [
            byte_to_char_spans(text, _byte_spans(next(found))) if text else [] for text in texts
        ]

    def check(self) -> None:
        self._http.check()

    # Internals.

    def _checked(
        self, path: Path | str, on_fallback: Callable[[str, str], None] | None
    ) -> FastTokenizer | None:
        """The tokenizer at ``path`` if it loads and agrees with ``/tokenize`` on ``SAMPLE``;
        else None, logged and reported. An outage during the check propagates."""
        try:
            local = FastTokenizer.load(path)
            theirs = self._tei_token_spans(SAMPLE)
        except TokenizerUnavailable as exc:
            reason, detail = "unloadable", str(exc)
        except Unavailable:
            raise  # an outage: the embedder is built again later
        except UpstreamError as exc:
            reason, detail = "unchecked", f"/tokenize refused the sample: {exc}"
        else:
            found = disagreement(SAMPLE, local.token_spans(SAMPLE), theirs)
            if found is None:
                log.info(
                    "tokenizing in process with %s: it agrees with TEI's /tokenize (%s) on %d "
                    "sample texts",
                    local.source,
                    self.model_id,
                    len(SAMPLE),
                )
                return local
            reason, detail = "disagrees", f"{local.source} is not {self.model_id}'s: {found}"
        log.warning(
            "tokenizing through TEI's /tokenize instead of in process (%s): %s", reason, detail
        )
        if on_fallback is not None:
            on_fallback(reason, detail)
        return None

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
        return self._http.post_split(
            "/embed", batch, lambda b: {"inputs": b, "normalize": True, "truncate": True}, _vectors
        )
