"""TeiReranker against a fake TEI on httpx.MockTransport.

As in ``test_tei.py``: every body sent and every body the fake answers is checked against TEI
1.9.3's own OpenAPI document, so the fake cannot drift from the real server's shapes.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jsonschema import ValidationError
from test_tei import error, info_body

from docqa.adapters.tei import TeiReranker
from docqa.errors import Unavailable, UpstreamError
from tei_contract import Contract

RERANKER_TYPE = {"reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}}
QUERY = "what is deep learning"
TEXTS = [f"passage {i} about {'learning' if i % 3 else 'cooking'}" for i in range(11)]


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract.load()


def score(query: str, text: str) -> float:
    """The fake's relevance: in (0, 1), distinct per text, unrelated to the input order."""
    return (sum(map(ord, query + text)) % 997 + 1) / 999


class FakeReranker:
    """Answers like TEI serving a cross-encoder: ``/rerank`` best first. ``limit`` is the batch
    size it really enforces, answered with ``limit_status``; ``script`` holds canned answers (a
    Response or an exception) served first, in order, for ``script_path``."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.info = info_body(model_id="BAAI/bge-reranker-base", model_type=RERANKER_TYPE)
        self.limit = 10_000
        self.limit_status = 422
        self.script: list[httpx.Response | Exception] = []
        self.script_path = "/rerank"
        self.requests: list[httpx.Request] = []
        self.client = httpx.Client(
            base_url="http://tei.test", transport=httpx.MockTransport(self.handle)
        )

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == "/rerank"]

    def batches(self) -> list[list[str]]:
        return [body["texts"] for body in self.bodies()]

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
        if path != "/rerank":
            return httpx.Response(404)
        body = self.contract.check("RerankRequest", json.loads(request.content))
        texts = body["texts"]
        if len(texts) > self.limit:
            message = f"batch size {len(texts)} > maximum allowed batch size {self.limit}"
            return error(self.contract, self.limit_status, message, "Validation")
        ranks = [{"index": i, "score": score(body["query"], t)} for i, t in enumerate(texts)]
        ranks.sort(key=lambda rank: -rank["score"])
        return httpx.Response(200, json=self.contract.check("RerankResponse", ranks))


@pytest.fixture
def tei(contract: Contract) -> FakeReranker:
    return FakeReranker(contract)


def reranker(tei: FakeReranker, sleeps: list[float] | None = None, **kwargs: Any) -> TeiReranker:
    record = sleeps if sleeps is not None else []
    return TeiReranker(tei.client, sleep=record.append, **kwargs)


def expected(texts: list[str]) -> list[float]:
    return [score(QUERY, text) for text in texts]


def test_scores_come_back_in_input_order(tei: FakeReranker) -> None:
    texts = TEXTS[:5]
    assert sorted(expected(texts), reverse=True) != expected(texts)  # the answer is reordered
    assert reranker(tei).rerank(QUERY, texts) == expected(texts)
    [sent] = tei.bodies()
    assert sent == {"query": QUERY, "texts": texts, "truncate": True, "raw_scores": False}


def test_reads_info(tei: FakeReranker) -> None:
    tei.info["max_client_batch_size"] = 8
    rr = reranker(tei)
    assert (rr.model_id, rr.max_client_batch_size) == ("BAAI/bge-reranker-base", 8)


def test_nothing_to_rerank_sends_nothing(tei: FakeReranker) -> None:
    assert reranker(tei).rerank(QUERY, []) == []
    assert tei.bodies() == []


def test_batches_by_max_client_batch_size(tei: FakeReranker) -> None:
    tei.info["max_client_batch_size"] = 4
    tei.limit = 4
    assert reranker(tei).rerank(QUERY, TEXTS) == expected(TEXTS)
    assert tei.batches() == [TEXTS[:4], TEXTS[4:8], TEXTS[8:]]
    assert {body["query"] for body in tei.bodies()} == {QUERY}


@pytest.mark.parametrize("status", [413, 422])
def test_batch_size_error_splits_and_keeps_order(tei: FakeReranker, status: int) -> None:
    tei.info["max_client_batch_size"] = 8  # the server says 8 but takes 2
    tei.limit, tei.limit_status = 2, status
    assert reranker(tei).rerank(QUERY, TEXTS[:8]) == expected(TEXTS[:8])
    assert [len(b) for b in tei.batches()] == [8, 4, 2, 2, 4, 2, 2]


def test_other_422_is_not_split(tei: FakeReranker, contract: Contract) -> None:
    tei.script = [error(contract, 422, "Tokenization error: bad input", "Tokenizer")]
    with pytest.raises(UpstreamError) as caught:
        reranker(tei).rerank(QUERY, TEXTS[:4])
    assert not isinstance(caught.value, Unavailable)
    assert (caught.value.detail, caught.value.status) == ("Tokenization error: bad input", 422)
    assert len(tei.batches()) == 1


def test_overloaded_and_unhealthy_are_retried(tei: FakeReranker, contract: Contract) -> None:
    tei.script = [
        error(contract, 429, "Model is overloaded", "Overloaded"),
        error(contract, 503, "unhealthy", "Unhealthy"),
        httpx.ReadTimeout("timed out"),
    ]
    sleeps: list[float] = []
    assert reranker(tei, sleeps).rerank(QUERY, TEXTS[:3]) == expected(TEXTS[:3])
    assert sleeps == [0.5, 1.0, 2.0]
    assert tei.batches() == [TEXTS[:3]] * 4


def test_unhealthy_forever_is_unavailable(tei: FakeReranker, contract: Contract) -> None:
    tei.script = [error(contract, 503, "unhealthy", "Unhealthy")] * 10
    sleeps: list[float] = []
    with pytest.raises(Unavailable) as caught:
        reranker(tei, sleeps, attempts=3).rerank(QUERY, TEXTS[:3])
    assert (caught.value.detail, caught.value.status, caught.value.service) == (
        "unhealthy",
        503,
        "tei-reranker",
    )
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            {"error": "`texts` cannot be empty", "error_type": "Empty"},
            "`texts` cannot be empty",
        ),
        (424, {"error": "Inference failed", "error_type": "Backend"}, "Inference failed"),
        (401, {"message": "Invalid API key", "type": "invalid_request_error"}, "Invalid API key"),
        (500, "Internal Server Error\n", "Internal Server Error"),
    ],
)
def test_other_errors_are_upstream_errors_with_teis_message(
    tei: FakeReranker, contract: Contract, status: int, body: Any, message: str
) -> None:
    if isinstance(body, dict) and "error" in body:
        contract.check("ErrorResponse", body)
    tei.script = [
        httpx.Response(status, json=body)
        if isinstance(body, dict)
        else httpx.Response(status, text=body)
    ]
    with pytest.raises(UpstreamError) as caught:
        reranker(tei).rerank(QUERY, TEXTS[:3])
    assert not isinstance(caught.value, Unavailable)
    assert (caught.value.detail, caught.value.status, caught.value.service) == (
        message,
        status,
        "tei-reranker",
    )
    assert len(tei.batches()) == 1


@pytest.mark.parametrize(
    "ranks",
    [
        [{"index": 0, "score": 0.9}, {"index": 0, "score": 0.1}],  # an index twice
        [{"index": 0, "score": 0.9}, {"index": 2, "score": 0.1}],  # out of range
        [{"index": 0, "score": 0.9}, {"index": 1}],  # no score
        [{"index": 0, "score": 0.9}],  # too few
    ],
)
def test_malformed_answers_are_upstream_errors(tei: FakeReranker, ranks: list[Any]) -> None:
    tei.script = [httpx.Response(200, json=ranks)]
    with pytest.raises(UpstreamError, match="/rerank"):
        reranker(tei).rerank(QUERY, TEXTS[:2])


def test_a_server_without_a_reranker_is_refused(tei: FakeReranker) -> None:
    tei.info["model_type"] = {"embedding": {"pooling": "cls"}}
    with pytest.raises(UpstreamError, match="not a reranker \\(model_type 'embedding'\\)"):
        reranker(tei)


def test_check(tei: FakeReranker, contract: Contract) -> None:
    rr = reranker(tei)
    rr.check()
    tei.script_path = "/health"
    tei.script = [error(contract, 503, "unhealthy", "Unhealthy"), httpx.ConnectError("refused")]
    with pytest.raises(Unavailable) as caught:
        rr.check()
    assert (caught.value.detail, caught.value.status) == ("unhealthy", 503)
    with pytest.raises(Unavailable, match="refused"):
        rr.check()


def test_api_key_is_sent_as_bearer_token(tei: FakeReranker) -> None:
    rr = reranker(tei, api_key="s3cret")
    rr.rerank(QUERY, ["a"])
    rr.check()
    assert {r.headers.get("authorization") for r in tei.requests} == {"Bearer s3cret"}


def test_contract_rejects_what_tei_would_reject(contract: Contract) -> None:
    """Guards the guard: the rerank schemas really are applied."""
    bad = [
        ("RerankRequest", {"texts": ["a"]}),
        ("RerankRequest", {"query": "q", "texts": "a"}),
        ("RerankRequest", {"query": "q", "texts": ["a"], "raw_scores": "no"}),
        ("RerankResponse", [{"index": 0}]),
        ("RerankResponse", [{"index": -1, "score": 0.5}]),
    ]
    for schema, body in bad:
        with pytest.raises(ValidationError):
            contract.check(schema, body)
