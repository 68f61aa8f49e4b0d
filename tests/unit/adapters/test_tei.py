"""TeiEmbedder against the TEI stand-in in process (``bench.tei_stub.mock.FakeTei``), which checks
every body against TEI 1.9.3's own OpenAPI document."""

from __future__ import annotations

import copy
import json
from bisect import bisect_left, bisect_right
from typing import Any

import httpx
import pytest
from bench.tei_stub import DIMENSION, MODEL_ID, embed, info_body
from bench.tei_stub.mock import FakeTei, error
from hypothesis import given
from hypothesis import strategies as st

from docqa.adapters.tei import TeiEmbedder, byte_to_char_spans, estimate_tokens
from docqa.core.errors import Unavailable, UpstreamError
from docqa.core.models import EmbeddingSpec
from support.tei_contract import Contract


@pytest.fixture
def tei(contract: Contract) -> FakeTei:
    return FakeTei(contract)


def embedder(tei: FakeTei, sleeps: list[float] | None = None, **kwargs: Any) -> TeiEmbedder:
    record = sleeps if sleeps is not None else []
    return TeiEmbedder(tei.client, sleep=record.append, **kwargs)


TEXTS = [f"text number {i}" for i in range(11)]


def test_reads_info_and_learns_the_dimension_once(tei: FakeTei, contract: Contract) -> None:
    contract.check("Info", tei.info)
    emb = embedder(tei)
    assert (emb.max_client_batch_size, emb.max_batch_tokens) == (32, 16384)
    expected = EmbeddingSpec(MODEL_ID, DIMENSION, normalized=True, max_input_tokens=512)
    assert emb.spec == expected
    assert emb.spec == expected
    assert len(tei.batches("/embed")) == 1


def test_info_without_batch_limits_uses_teis_defaults(tei: FakeTei) -> None:
    del tei.info["max_client_batch_size"], tei.info["max_batch_tokens"]  # older TEIs
    tei.script_path, tei.script = "/info", [httpx.Response(200, json=tei.info)]
    emb = embedder(tei)
    assert (emb.max_client_batch_size, emb.max_batch_tokens) == (32, 16384)


def test_embed_batches_by_max_client_batch_size(tei: FakeTei) -> None:
    tei.info["max_client_batch_size"] = 4
    tei.limit = 4
    assert embedder(tei).embed(TEXTS) == [embed(t) for t in TEXTS]
    assert [len(b) for b in tei.batches("/embed")] == [4, 4, 3]
    sent = json.loads(tei.requests[-1].content)
    assert (sent["normalize"], sent["truncate"]) == (True, True)


def test_embed_batches_by_estimated_tokens(tei: FakeTei) -> None:
    tei.info.update(max_batch_tokens=100, max_input_length=40)
    texts = ["x" * 18] * 7 + ["y" * 1000, "z" * 19]  # 20 tokens each, 40 (capped), 21
    assert embedder(tei).embed(texts) == [embed(t) for t in texts]
    assert [len(b) for b in tei.batches("/embed")] == [5, 3, 1]  # 5x20 | 20+20+40 | 21


def test_token_estimate_is_an_upper_bound_in_bytes() -> None:
    assert estimate_tokens("hello", 512) == 7
    assert estimate_tokens("北京", 512) == 8
    assert estimate_tokens("a" * 5000, 512) == 512


def test_embed_of_nothing_sends_nothing(tei: FakeTei) -> None:
    assert embedder(tei).embed([]) == []
    assert tei.batches("/embed") == []


@pytest.mark.parametrize("status", [413, 422])
def test_batch_size_error_splits_and_keeps_order(tei: FakeTei, status: int) -> None:
    tei.info["max_client_batch_size"] = 8  # the server says 8 but takes 2
    tei.limit, tei.limit_status = 2, status
    assert embedder(tei).embed(TEXTS[:8]) == [embed(t) for t in TEXTS[:8]]
    assert [len(b) for b in tei.batches("/embed")] == [8, 4, 2, 2, 4, 2, 2]


def test_lowercase_error_type_batch_error_splits_too(tei: FakeTei) -> None:
    refusal = {"error": "batch size 2 > maximum allowed batch size 1", "error_type": "validation"}
    tei.script = [httpx.Response(422, json=refusal)]
    assert embedder(tei).embed(TEXTS[:2]) == [embed(t) for t in TEXTS[:2]]
    assert [len(b) for b in tei.batches("/embed")] == [2, 1, 1]


def test_other_422_is_not_split(tei: FakeTei, contract: Contract) -> None:
    tei.script = [error(contract, 422, "Tokenization error: bad input", "Tokenizer")]
    with pytest.raises(UpstreamError) as caught:
        embedder(tei).embed(TEXTS[:4])
    assert (caught.value.detail, caught.value.status) == ("Tokenization error: bad input", 422)
    assert len(tei.batches("/embed")) == 1


def test_a_single_text_over_the_limit_is_an_error(tei: FakeTei) -> None:
    tei.limit, tei.limit_status = 0, 413
    with pytest.raises(UpstreamError) as caught:
        embedder(tei).embed(TEXTS[:2])
    assert caught.value.status == 413
    assert "maximum allowed batch size 0" in caught.value.detail
    assert [len(b) for b in tei.batches("/embed")] == [2, 1]


def test_overloaded_and_unhealthy_are_retried(tei: FakeTei, contract: Contract) -> None:
    tei.script = [
        error(contract, 429, "Model is overloaded", "Overloaded"),
        error(contract, 503, "unhealthy", "Unhealthy"),
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
    ]
    sleeps: list[float] = []
    assert embedder(tei, sleeps).embed(TEXTS[:3]) == [embed(t) for t in TEXTS[:3]]
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def test_overloaded_forever_is_unavailable(tei: FakeTei, contract: Contract) -> None:
    tei.script = [error(contract, 429, "Model is overloaded", "Overloaded")] * 10
    sleeps: list[float] = []
    with pytest.raises(Unavailable) as caught:
        embedder(tei, sleeps, attempts=4, max_backoff_s=1.0).embed(TEXTS[:3])
    assert (caught.value.detail, caught.value.status, caught.value.service) == (
        "Model is overloaded",
        429,
        "tei",
    )
    assert sleeps == [0.5, 1.0, 1.0]
    assert len(tei.batches("/embed")) == 4


def test_unreachable_at_start_is_unavailable(tei: FakeTei) -> None:
    tei.script_path = "/info"
    tei.script = [httpx.ConnectError("connection refused")] * 3
    with pytest.raises(Unavailable, match="connection refused"):
        embedder(tei, attempts=3)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, {"error": "Batch is empty", "error_type": "Empty"}, "Batch is empty"),
        (424, {"error": "Inference failed", "error_type": "Backend"}, "Inference failed"),
        (500, {"error": "boom", "error_type": "backend"}, "boom"),
        (500, "Internal Server Error\n", "Internal Server Error"),
        (502, "", "HTTP 502 Bad Gateway"),
    ],
)
def test_other_errors_are_upstream_errors_with_teis_message(
    tei: FakeTei, contract: Contract, status: int, body: Any, message: str
) -> None:
    if isinstance(body, dict) and body["error_type"][0].isupper():
        contract.check("ErrorResponse", body)
    answer = (
        httpx.Response(status, json=body)
        if isinstance(body, dict)
        else httpx.Response(status, text=body)
    )
    tei.script = [answer]
    with pytest.raises(UpstreamError) as caught:
        embedder(tei).embed(TEXTS[:3])
    assert not isinstance(caught.value, Unavailable)
    assert (caught.value.detail, caught.value.status, caught.value.service) == (
        message,
        status,
        "tei",
    )
    assert len(tei.batches("/embed")) == 1


def test_token_spans_are_character_offsets(tei: FakeTei) -> None:
    texts = ["plain ascii text", "naïve café — 北京天安门 ok", ""]
    spans = embedder(tei).token_spans(texts)
    assert [[t[a:b] for a, b in s] for t, s in zip(texts, spans, strict=True)] == [
        ["plain", "ascii", "text"],
        ["naïve", "café", "—", "北京天安门", "ok"],
        [],
    ]
    assert tei.batches("/tokenize") == [texts[:2]]  # the empty text is not sent
    assert json.loads(tei.requests[-1].content)["add_special_tokens"] is False


def test_token_spans_batch_and_split(tei: FakeTei) -> None:
    tei.info["max_client_batch_size"] = 4
    tei.limit = 2
    spans = embedder(tei).token_spans(TEXTS[:6])
    assert spans == [[(0, 4), (5, 11), (12, 13)]] * 6
    assert [len(b) for b in tei.batches("/tokenize")] == [4, 2, 2, 2]


def test_special_tokens_without_offsets_are_skipped(tei: FakeTei, contract: Contract) -> None:
    answer = [
        [
            {"id": 101, "text": "[CLS]", "special": True, "start": None, "stop": None},
            {"id": 7, "text": "é", "special": False, "start": 0, "stop": 2},
            {"id": 8, "text": "x", "special": False, "start": 3, "stop": 4},
        ]
    ]
    tei.script_path = "/tokenize"
    tei.script = [httpx.Response(200, json=contract.check("TokenizeResponse", answer))]
    assert embedder(tei).token_spans(["é x"]) == [[(0, 1), (2, 3)]]


def test_byte_offsets_inside_a_character_widen_to_it() -> None:
    assert byte_to_char_spans("a北b", [(0, 1), (2, 3), (1, 4), (4, 5)]) == [
        (0, 1),
        (1, 2),
        (1, 2),
        (2, 3),
    ]


def every_character_mapped(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The mapping as first written: each character's byte offset, then bisected."""
    starts, offset = [], 0
    for char in text:
        starts.append(offset)
        offset += len(char.encode())
    starts.append(offset)
    return [(bisect_right(starts, a) - 1, bisect_left(starts, b)) for a, b in spans]


@given(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=30),
)
def test_byte_offsets_map_as_when_every_character_was_mapped(
    text: str, spans: list[tuple[int, int]]
) -> None:
    size = len(text.encode())  # offsets within the text, as TEI gives them
    within = [(min(a, size), min(b, size)) for a, b in spans]
    assert byte_to_char_spans(text, within) == every_character_mapped(text, within)


def test_check(tei: FakeTei, contract: Contract) -> None:
    emb = embedder(tei)
    emb.check()
    tei.script_path = "/health"
    tei.script = [error(contract, 503, "unhealthy", "Unhealthy"), httpx.ConnectError("refused")]
    with pytest.raises(Unavailable) as caught:
        emb.check()
    assert (caught.value.detail, caught.value.status) == ("unhealthy", 503)
    with pytest.raises(Unavailable, match="refused"):
        emb.check()


def test_api_key_is_sent_as_bearer_token(tei: FakeTei) -> None:
    emb = embedder(tei, api_key="s3cret")
    emb.embed(["a"])
    emb.token_spans(["a"])
    emb.check()
    assert {r.headers.get("authorization") for r in tei.requests} == {"Bearer s3cret"}


def test_contract_rejects_what_tei_would_reject(contract: Contract) -> None:
    """Guards the guard: the schemas really are applied."""
    from jsonschema import ValidationError

    bad = [
        ("EmbedRequest", {"inputs": 3}),
        ("EmbedRequest", {"normalize": True}),
        ("TokenizeRequest", {"inputs": [1, 2]}),
        ("ErrorResponse", {"error": "x", "error_type": "Nonsense"}),
        ("Info", {k: v for k, v in info_body().items() if k != "model_id"}),
        ("EmbedResponse", [["0.1"]]),
    ]
    for schema, body in bad:
        with pytest.raises(ValidationError):
            contract.check(schema, copy.deepcopy(body))
