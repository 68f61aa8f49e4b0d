"""One fake TEI on ``httpx.MockTransport`` for the TEI adapters' tests: an embedding model
(``/embed``, ``/tokenize``) or a cross-encoder (``/rerank``), by its ``/info``.

Every request body the adapter sends and every body the fake answers is checked against TEI
1.9.3's own OpenAPI document (``tei_contract.Contract``), so the fake cannot drift from the
real server's shapes. Scripted answers (``script``) are served as given, contract or not: they
are how a test shows the adapter what a server may really say.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from support.tei_contract import Contract

RERANKER_TYPE = {"reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}}


def info_body(**overrides: Any) -> dict[str, Any]:
    """TEI's ``/info`` for gte-large (``model_type`` and the rest overridable)."""
    body = {
        "model_id": "thenlper/gte-large",
        "model_sha": None,
        "model_dtype": "float16",
        "served_model_name": "thenlper/gte-large",
        "model_type": {"embedding": {"pooling": "mean"}},
        "max_concurrent_requests": 512,
        "max_input_length": 512,
        "max_batch_tokens": 16384,
        "max_batch_requests": None,
        "max_client_batch_size": 32,
        "auto_truncate": True,
        "tokenization_workers": 8,
        "version": "1.9.3",
        "sha": None,
        "docker_label": None,
    }
    body.update(overrides)
    return body


def reranker_info(**overrides: Any) -> dict[str, Any]:
    return info_body(model_id="BAAI/bge-reranker-base", model_type=RERANKER_TYPE, **overrides)


def vector(text: str) -> list[float]:
    """The fake's embedding: distinct per text, so order mistakes show."""
    return [float(len(text)), float(sum(map(ord, text)) % 997), 1.0]


def score(query: str, text: str) -> float:
    """The fake's relevance: in (0, 1), distinct per text, unrelated to the input order."""
    return (sum(map(ord, query + text)) % 997 + 1) / 999


def words(text: str) -> list[dict[str, Any]]:
    """A whitespace 'tokenizer' that reports UTF-8 byte offsets, as TEI does."""
    raw = text.encode()
    return [
        {"id": i, "text": m.group().decode(), "special": False, "start": m.start(), "stop": m.end()}
        for i, m in enumerate(re.finditer(rb"\S+", raw))
    ]


def error(contract: Contract, status: int, message: str, error_type: str) -> httpx.Response:
    body = contract.check("ErrorResponse", {"error": message, "error_type": error_type})
    return httpx.Response(status, json=body)


class FakeTei:
    """Answers like TEI. ``info`` is its ``/info`` (``info_body()`` or ``reranker_info()``);
    ``limit`` is the batch size it really enforces (``/info`` may say otherwise), answered with
    ``limit_status`` (413 before 1.9, 422 after). ``script`` holds canned answers (a Response
    or an exception) served first, in order, for ``script_path``."""

    def __init__(
        self,
        contract: Contract,
        *,
        info: dict[str, Any] | None = None,
        limit: int = 10_000,
        limit_status: int = 422,
        script_path: str = "/embed",
    ) -> None:
        self.contract = contract
        self.info = info if info is not None else info_body()
        self.limit = limit
        self.limit_status = limit_status
        self.script: list[httpx.Response | Exception] = []
        self.script_path = script_path
        self.requests: list[httpx.Request] = []
        self.client = httpx.Client(
            base_url="http://tei.test", transport=httpx.MockTransport(self.handle)
        )

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]

    def batches(self, path: str) -> list[list[str]]:
        """The texts of each request to ``path``, in order."""
        key = "texts" if path == "/rerank" else "inputs"
        return [body[key] for body in self.bodies(path)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if self.script and path == self.script_path:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if path == "/info":
            return httpx.Response(200, json=self.contract.check("Info", self.info))
        if path == "/health":
            return httpx.Response(200)
        handlers = {"/embed": self._embed, "/tokenize": self._tokenize, "/rerank": self._rerank}
        if path not in handlers:
            return httpx.Response(404)
        return handlers[path](json.loads(request.content))

    def _embed(self, body: dict[str, Any]) -> httpx.Response:
        self.contract.check("EmbedRequest", body)
        if len(body["inputs"]) > self.limit:
            return self._batch_error(len(body["inputs"]))
        vectors = [vector(text) for text in body["inputs"]]
        return httpx.Response(200, json=self.contract.check("EmbedResponse", vectors))

    def _tokenize(self, body: dict[str, Any]) -> httpx.Response:
        self.contract.check("TokenizeRequest", body)
        if len(body["inputs"]) > self.limit:
            return self._batch_error(len(body["inputs"]))
        tokens = [words(text) for text in body["inputs"]]
        return httpx.Response(200, json=self.contract.check("TokenizeResponse", tokens))

    def _rerank(self, body: dict[str, Any]) -> httpx.Response:
        self.contract.check("RerankRequest", body)
        texts = body["texts"]
        if len(texts) > self.limit:
            return self._batch_error(len(texts))
        ranks = [{"index": i, "score": score(body["query"], t)} for i, t in enumerate(texts)]
        ranks.sort(key=lambda rank: -rank["score"])
        return httpx.Response(200, json=self.contract.check("RerankResponse", ranks))

    def _batch_error(self, size: int) -> httpx.Response:
        message = f"batch size {size} > maximum allowed batch size {self.limit}"
        return error(self.contract, self.limit_status, message, "Validation")
