"""TEI 1.9's HTTP protocol as the stand-in answers it, transport aside: one request (method,
path, raw body) in, one ``Reply`` out, for ``/info``, ``/health``, ``/embed``, ``/tokenize``,
``/rerank`` and the stand-in's own ``/_faults``.

``Tei(check=contract.check)`` passes every request body it reads and every body it answers
through ``check(schema_name, body)`` (``tests/support/tei_contract.py`` validates them against
TEI 1.9.3's OpenAPI document), so a test sees any drift from the real server's shapes.
Stdlib only."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.tei_stub.faults import FAULT_BODIES, Faults
from bench.tei_stub.model import (
    MAX_CLIENT_BATCH_SIZE,
    MAX_INPUT_LENGTH,
    count_tokens,
    embed,
    info_body,
    model_kind,
    score,
    tokenize,
)

Check = Callable[[str, Any], Any]  # (OpenAPI schema name, body) -> body, or raises
REQUESTS = {"/embed": "EmbedRequest", "/tokenize": "TokenizeRequest", "/rerank": "RerankRequest"}
RESPONSES = {
    "/embed": "EmbedResponse",
    "/tokenize": "TokenizeResponse",
    "/rerank": "RerankResponse",
}
SERVED_BY = {"/embed": "embedding", "/rerank": "reranker"}  # /tokenize: any model


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON; None: an empty body
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, message: str, error_type: str) -> None:
        super().__init__(message)
        self.status, self.message, self.error_type = status, message, error_type


def _unchecked(schema: str, body: Any) -> Any:
    return body


class Tei:
    """One TEI server's behaviour. ``info`` is its ``/info`` (``model.info_body()`` or
    ``model.reranker_info()``; change it at will); ``limit`` the batch size it really enforces
    (None: ``/info``'s ``max_client_batch_size``), refused with ``limit_status`` (413 before
    TEI 1.9, 422 since). ``faults`` holds the injected faults and the counters. ``tokenizer``
    (``tokenizer_file.TokenizerFile``) answers ``/tokenize`` with a real model's tokens."""

    def __init__(
        self,
        info: dict[str, Any] | None = None,
        *,
        limit: int | None = None,
        limit_status: int = 422,
        check: Check | None = None,
        tokenizer: Any | None = None,
    ) -> None:
        self.info = info if info is not None else info_body()
        self.tokenizer = tokenizer  # a tokenizer_file.TokenizerFile, else the word tokens
        self.limit = limit
        self.limit_status = limit_status
        self.check: Check = check or _unchecked
        self.faults = Faults()

    @property
    def batch_limit(self) -> int:
        if self.limit is not None:
            return self.limit
        return int(self.info.get("max_client_batch_size") or MAX_CLIENT_BATCH_SIZE)

    def answer(self, method: str, path: str, raw: bytes) -> Reply:
        try:
            if path == "/_faults":
                return self._control(method, raw)
            if (method, path) == ("GET", "/health"):
                return Reply(200)
            if (method, path) == ("GET", "/info"):
                return Reply(200, self.check("Info", self.info))
            if method != "POST" or path not in REQUESTS:
                raise ApiError(404, f"no route {method} {path}", "Validation")
            body = self.check(REQUESTS[path], _object(raw))
            status = self.faults.take(path)
            if status is not None:
                return self._fault(status)
            answer, texts = self._serve(path, body)
            self.faults.served(path, texts)
            return Reply(200, self.check(RESPONSES[path], answer))
        except ApiError as exc:
            return self._error(exc.status, exc.message, exc.error_type)
        except (ValueError, TypeError, KeyError) as exc:
            return self._error(422, f"Failed to parse the request body: {exc}", "Validation")

    def _serve(self, path: str, body: dict[str, Any]) -> tuple[Any, int]:
        """The answer to a model route, and the number of texts it served."""
        needed = SERVED_BY.get(path)
        if needed is not None and model_kind(self.info) != needed:
            kind = "an embedding" if needed == "embedding" else "a re-ranker"
            raise ApiError(424, f"model is not {kind} model", "Backend")
        if path == "/rerank":
            texts = self._batch(body["texts"], "texts")
            query = body["query"]
            ranks = [{"index": i, "score": score(query, text)} for i, text in enumerate(texts)]
            ranks.sort(key=lambda rank: -rank["score"])
            return ranks, len(texts)
        texts = self._batch(body["inputs"], "inputs")
        if path == "/embed":
            return self._embed(texts, body), len(texts)
        special = bool(body.get("add_special_tokens", True))
        tokens = self.tokenizer.tokenize if self.tokenizer is not None else tokenize
        return [tokens(text, special) for text in texts], len(texts)

    def _batch(self, inputs: Any, name: str) -> list[str]:
        texts = [inputs] if isinstance(inputs, str) and name == "inputs" else inputs
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"`{name}` must be a list of strings")
        if not texts:
            raise ApiError(400, f"`{name}` cannot be empty", "Empty")
        limit = self.batch_limit
        if len(texts) > limit:
            message = f"batch size {len(texts)} > maximum allowed batch size {limit}"
            raise ApiError(self.limit_status, message, "Validation")
        return texts

    def _embed(self, texts: list[str], body: dict[str, Any]) -> list[list[float]]:
        longest = int(self.info.get("max_input_length") or MAX_INPUT_LENGTH)
        if not body.get("truncate"):
            for text in texts:
                count = count_tokens(text) + 2  # [CLS] and [SEP] count
                if count > longest:
                    raise ApiError(
                        413,
                        f"Input validation error: `inputs` must have less than "
                        f"{longest} tokens. Given: {count}",
                        "Validation",
                    )
        normalize = bool(body.get("normalize", True))
        return [embed(text, normalize, longest - 2) for text in texts]

    def _control(self, method: str, raw: bytes) -> Reply:
        if method == "POST":
            self.faults.set(_object(raw))
        elif method == "DELETE":
            self.faults.reset()
        elif method != "GET":
            raise ApiError(404, f"no route {method} /_faults", "Validation")
        return Reply(200, self.faults.snapshot())

    def _fault(self, status: int) -> Reply:
        message, error_type = FAULT_BODIES.get(status, ("injected fault", "Backend"))
        retry_after = self.faults.retry_after_s
        headers = (
            {} if retry_after is None else {"Retry-After": str(max(0, math.ceil(retry_after)))}
        )
        return self._error(status, message, error_type, headers)

    def _error(
        self, status: int, message: str, error_type: str, headers: dict[str, str] | None = None
    ) -> Reply:
        body = self.check("ErrorResponse", {"error": message, "error_type": error_type})
        return Reply(status, body, headers or {})


def _object(raw: bytes) -> dict[str, Any]:
    body = json.loads(raw or b"{}")
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body
