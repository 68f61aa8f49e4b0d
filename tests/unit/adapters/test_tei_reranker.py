"""TeiReranker against a fake TEI on httpx.MockTransport.

The fake (``bench.tei_stub.mock.FakeTei``, the TEI stand-in serving a cross-encoder's ``/info``)
checks every body sent and every body it answers against TEI 1.9.3's own OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bench.tei_stub import RERANKER_ID, reranker_info, score
from bench.tei_stub.mock import FakeTei, error
from jsonschema import ValidationError

from docqa.adapters.tei_reranker import TeiReranker
from docqa.core.errors import Unavailable, UpstreamError
from support.tei_contract import Contract

QUERY = "what is deep learning"
TEXTS = [f"passage {i} about {'learning' if i % 3 else 'cooking'}" for i in range(11)]


@pytest.fixture
def tei(contract: Contract) -> FakeTei:
    return FakeTei(contract, info=reranker_info(), script_path="/rerank")


def reranker(tei: FakeTei, sleeps: list[float] | None = None, **kwargs: Any) -> TeiReranker:
    record = sleeps if sleeps is not None else []
    return TeiReranker(tei.client, sleep=record.append, **kwargs)


def expected(texts: list[str]) -> list[float]:
    return [score(QUERY, text) for text in texts]


def test_scores_come_back_in_input_order(tei: FakeTei) -> None:
    texts = TEXTS[:5]
    assert sorted(expected(texts), reverse=True) != expected(texts)  # the answer is reordered
    assert reranker(tei).rerank(QUERY, texts) == expected(texts)
    [sent] = tei.bodies("/rerank")
    assert sent == {"query": QUERY, "texts": texts, "truncate": True, "raw_scores": False}


def test_reads_info(tei: FakeTei) -> None:
    tei.info["max_client_batch_size"] = 8
    rr = reranker(tei)
    assert (rr.model_id, rr.max_client_batch_size) == (RERANKER_ID, 8)


def test_nothing_to_rerank_sends_nothing(tei: FakeTei) -> None:
    assert reranker(tei).rerank(QUERY, []) == []
    assert tei.bodies("/rerank") == []


def test_batches_by_max_client_batch_size(tei: FakeTei) -> None:
    tei.info["max_client_batch_size"] = 4
    tei.limit = 4
    assert reranker(tei).rerank(QUERY, TEXTS) == expected(TEXTS)
    assert tei.batches("/rerank") == [TEXTS[:4], TEXTS[4:8], TEXTS[8:]]
    assert {body["query"] for body in tei.bodies("/rerank")} == {QUERY}


@pytest.mark.parametrize("status", [413, 422])
def test_batch_size_error_splits_and_keeps_order(tei: FakeTei, status: int) -> None:
    tei.info["max_client_batch_size"] = 8  # the server says 8 but takes 2
    tei.limit, tei.limit_status = 2, status
    assert reranker(tei).rerank(QUERY, TEXTS[:8]) == expected(TEXTS[:8])
    assert [len(b) for b in tei.batches("/rerank")] == [8, 4, 2, 2, 4, 2, 2]


def test_other_422_is_not_split(tei: FakeTei, contract: Contract) -> None:
    tei.script = [error(contract, 422, "Tokenization error: bad input", "Tokenizer")]
    with pytest.raises(UpstreamError) as caught:
        reranker(tei).rerank(QUERY, TEXTS[:4])
    assert not isinstance(caught.value, Unavailable)
    assert (caught.value.detail, caught.value.status) == ("Tokenization error: bad input", 422)
    assert len(tei.batches("/rerank")) == 1


def test_overloaded_and_unhealthy_are_retried(tei: FakeTei, contract: Contract) -> None:
    tei.script = [
        error(contract, 429, "Model is overloaded", "Overloaded"),
        error(contract, 503, "unhealthy", "Unhealthy"),
        httpx.ReadTimeout("timed out"),
    ]
    sleeps: list[float] = []
    assert reranker(tei, sleeps).rerank(QUERY, TEXTS[:3]) == expected(TEXTS[:3])
    assert sleeps == [0.5, 1.0, 2.0]
    assert tei.batches("/rerank") == [TEXTS[:3]] * 4


def test_unhealthy_forever_is_unavailable(tei: FakeTei, contract: Contract) -> None:
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
    tei: FakeTei, contract: Contract, status: int, body: Any, message: str
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
    assert len(tei.batches("/rerank")) == 1


@pytest.mark.parametrize(
    "ranks",
    [
        [{"index": 0, "score": 0.9}, {"index": 0, "score": 0.1}],  # an index twice
        [{"index": 0, "score": 0.9}, {"index": 2, "score": 0.1}],  # out of range
        [{"index": 0, "score": 0.9}, {"index": 1}],  # no score
        [{"index": 0, "score": 0.9}],  # too few
    ],
)
def test_malformed_answers_are_upstream_errors(tei: FakeTei, ranks: list[Any]) -> None:
    tei.script = [httpx.Response(200, json=ranks)]
    with pytest.raises(UpstreamError, match="/rerank"):
        reranker(tei).rerank(QUERY, TEXTS[:2])


def test_a_server_without_a_reranker_is_refused(tei: FakeTei) -> None:
    tei.info["model_type"] = {"embedding": {"pooling": "cls"}}
    with pytest.raises(UpstreamError, match="not a reranker \\(model_type 'embedding'\\)"):
        reranker(tei)


def test_check(tei: FakeTei, contract: Contract) -> None:
    rr = reranker(tei)
    rr.check()
    tei.script_path = "/health"
    tei.script = [error(contract, 503, "unhealthy", "Unhealthy"), httpx.ConnectError("refused")]
    with pytest.raises(Unavailable) as caught:
        rr.check()
    assert (caught.value.detail, caught.value.status) == ("unhealthy", 503)
    with pytest.raises(Unavailable, match="refused"):
        rr.check()


def test_api_key_is_sent_as_bearer_token(tei: FakeTei) -> None:
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
