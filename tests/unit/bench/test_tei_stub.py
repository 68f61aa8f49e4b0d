"""The TEI stand-in (``bench/tei_stub/``) speaks TEI's protocol: its answers match TEI 1.9.3's
OpenAPI document, and the real ``TeiEmbedder`` and ``TeiReranker`` run against it. The HTTP
server runs in a thread here; ``FakeTei`` (the same behaviour on httpx.MockTransport) refuses
what the contract refuses."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from bench.tei_stub import DIMENSION, MODEL_ID, RERANKER_ID, StubServer, embed, score, tokenize
from bench.tei_stub.mock import FakeTei
from jsonschema import ValidationError

from docqa.adapters.tei import TeiEmbedder
from docqa.adapters.tei_reranker import TeiReranker
from docqa.core.errors import Unavailable
from support.tei_contract import Contract


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer(("127.0.0.1", 0), max_client_batch_size=4)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(stub: StubServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stub.server_address[1]}") as http:
        yield http


@pytest.fixture
def reranker_client() -> Iterator[httpx.Client]:
    server = StubServer(("127.0.0.1", 0), max_client_batch_size=4, reranker=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}") as http:
        yield http
    server.shutdown()
    server.server_close()


def test_answers_match_teis_contract(client: httpx.Client, contract: Contract) -> None:
    info = client.get("/info").json()
    contract.check("Info", info)
    assert (info["model_id"], info["max_client_batch_size"]) == (MODEL_ID, 4)
    vectors = client.post("/embed", json={"inputs": ["a b", "c"], "normalize": True}).json()
    contract.check("EmbedResponse", vectors)
    tokens = client.post("/tokenize", json={"inputs": ["Hi, there."]}).json()
    contract.check("TokenizeResponse", tokens)
    assert [t["text"] for t in tokens[0]] == ["[CLS]", "Hi", ",", "there", ".", "[SEP]"]
    assert tokens[0][0]["start"] is None and tokens[0][0]["special"] is True
    errors = [
        client.post("/embed", json={"inputs": []}),
        client.post("/embed", json={"inputs": ["x"] * 5}),
        client.post("/embed", json={"inputs": ["w " * 600], "truncate": False}),
    ]
    assert [r.status_code for r in errors] == [400, 422, 413]
    for response in errors:
        contract.check("ErrorResponse", response.json())
    assert "batch size 5 > maximum allowed batch size 4" in errors[1].json()["error"]
    assert client.get("/health").status_code == 200


def test_vectors_are_unit_length_deterministic_and_closer_for_shared_words() -> None:
    a, b, c = embed("river bridge station"), embed("river bridge museum"), embed("orbit treaty")
    assert len(a) == DIMENSION
    assert sum(x * x for x in a) == pytest.approx(1.0)
    assert a == embed("river bridge station")

    def dot(u: list[float], v: list[float]) -> float:
        return sum(x * y for x, y in zip(u, v, strict=True))

    assert dot(a, b) > dot(a, c)
    assert sum(x * x for x in embed("")) == pytest.approx(1.0)


def test_token_offsets_are_utf8_bytes_like_teis() -> None:
    text = "Café über"
    tokens = tokenize(text, add_special_tokens=False)
    raw = text.encode()
    assert [raw[t["start"] : t["stop"]].decode() for t in tokens] == ["Café", "über"]
    assert [(t["start"], t["stop"]) for t in tokens] == [(0, 5), (6, 11)]


def test_the_real_adapter_embeds_and_gets_character_spans(client: httpx.Client) -> None:
    embedder = TeiEmbedder(client, sleep=lambda _: None)
    assert embedder.spec.dimension == DIMENSION and embedder.spec.model_id == MODEL_ID
    texts = [f"text number {i}" for i in range(10)]
    assert embedder.embed(texts) == [embed(t) for t in texts]  # batches of 4
    [spans] = embedder.token_spans(["Café über"])
    assert spans == [(0, 4), (5, 9)]


def test_faults_alternate_for_a_while_and_are_counted(
    stub: StubServer, client: httpx.Client, contract: Contract
) -> None:
    state = client.post(
        "/_faults", json={"statuses": [429, 503], "for_s": 30, "retry_after_s": 1}
    ).json()
    assert state["active"] is True
    answers = [client.post("/embed", json={"inputs": ["x"]}) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 503, 429]
    assert answers[0].json() == {"error": "Model is overloaded", "error_type": "Overloaded"}
    assert answers[1].json()["error_type"] == "Unhealthy"
    assert answers[0].headers["retry-after"] == "1"
    for answer in answers:
        contract.check("ErrorResponse", answer.json())
    assert client.post("/tokenize", json={"inputs": ["x"]}).status_code == 200  # not faulted

    sleeps: list[float] = []
    with pytest.raises(Unavailable) as caught:
        TeiEmbedder(client, attempts=3, sleep=sleeps.append).embed(["y"])
    assert caught.value.status == 503 and len(sleeps) == 2  # 429, 503, 429 served before

    counters = client.get("/_faults").json()
    assert counters["faults"] == {"429": 3, "503": 3}
    assert (counters["embeds"], counters["tokenizes"]) == (0, 1)

    client.post("/_faults", json={"for_s": 0})
    assert client.post("/embed", json={"inputs": ["x"]}).status_code == 200
    assert client.get("/_faults").json()["embeds"] == 1
    assert client.delete("/_faults").json()["faults"] == {}


def test_the_reranker_serves_the_real_adapter_in_input_order(
    reranker_client: httpx.Client, contract: Contract
) -> None:
    info = contract.check("Info", reranker_client.get("/info").json())
    assert info["model_id"] == RERANKER_ID and "reranker" in info["model_type"]
    query, texts = "what is deep learning", [f"passage {i} about learning" for i in range(10)]
    ranks = reranker_client.post("/rerank", json={"query": query, "texts": texts[:4]}).json()
    contract.check("RerankResponse", ranks)
    assert [r["score"] for r in ranks] == sorted((r["score"] for r in ranks), reverse=True)
    reranker = TeiReranker(reranker_client, sleep=lambda _: None)
    assert reranker.model_id == RERANKER_ID
    assert reranker.rerank(query, texts) == [score(query, t) for t in texts]  # batches of 4


def test_each_model_serves_only_its_own_route_as_tei_does(
    client: httpx.Client, reranker_client: httpx.Client, contract: Contract
) -> None:
    refused = [
        client.post("/rerank", json={"query": "q", "texts": ["a"]}),
        reranker_client.post("/embed", json={"inputs": ["a"]}),
    ]
    assert [r.status_code for r in refused] == [424, 424]
    for response in refused:
        assert contract.check("ErrorResponse", response.json())["error_type"] == "Backend"
    assert reranker_client.post("/tokenize", json={"inputs": ["a"]}).status_code == 200


def test_the_in_process_fake_refuses_what_the_contract_refuses(contract: Contract) -> None:
    tei = FakeTei(contract)
    assert tei.client.post("/embed", json={"inputs": ["a b"]}).json() == [embed("a b")]
    with pytest.raises(ValidationError):
        tei.client.post("/embed", json={"inputs": 3})  # TEI would refuse it: so does the test
    tei.info["max_input_length"] = "512"  # an /info TEI never sends
    with pytest.raises(ValidationError):
        tei.client.get("/info")
