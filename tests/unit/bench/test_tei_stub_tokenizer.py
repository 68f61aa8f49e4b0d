"""The TEI stand-in's ``--tokenizer`` mode (``bench/tei_stub/tokenizer_file.py``): ``/tokenize``
answers with a real model's tokens (all-MiniLM-L6-v2's ``tokenizer.json`` here), in TEI's shapes
and byte offsets, so a ``TeiEmbedder`` given the same file tokenizes in process; ``TeiStub``
passes the file to its subprocess, from its argument or ``TEI_STUB_TOKENIZER``."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from bench.tei_stub import StubServer, TeiStub
from bench.tei_stub.mock import FakeTei
from bench.tei_stub.tokenizer_file import TokenizerFile

from docqa.adapters.local_embedder import default_model_path
from docqa.adapters.tei import TeiEmbedder
from support.tei_contract import Contract

MINILM = default_model_path()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer(("127.0.0.1", 0), tokenizer=MINILM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_tokenize_gives_the_models_tokens_with_byte_offsets(stub: StubServer) -> None:
    url = f"http://127.0.0.1:{stub.server_address[1]}"
    body = {"inputs": ["Héllo, 東京 worldly!"], "add_special_tokens": True}
    tokens = httpx.post(f"{url}/tokenize", json=body).raise_for_status().json()[0]
    texts = [t["text"] for t in tokens]
    assert texts == ["[CLS]", "Héllo", ",", "東", "京", "world", "ly", "!", "[SEP]"]  # WordPiece
    assert [t["id"] for t in tokens][:2] == [101, 7592]  # BERT's [CLS], WordPiece's "hello"
    assert [(t["start"], t["stop"]) for t in tokens[1:-1]] == [
        (0, 6), (6, 7), (8, 11), (11, 14), (15, 20), (20, 22), (22, 23),
    ]  # fmt: skip
    assert tokens[0]["special"] and tokens[-1]["special"] and tokens[0]["start"] is None


def test_answers_match_the_contract(contract: Contract) -> None:
    tei = FakeTei(contract, tokenizer=TokenizerFile(MINILM))  # checks every body it sends
    texts = ["a [SEP] b", "👩🏽‍💻 emoji", "word " * 600]
    answer = tei.answer(
        "POST", "/tokenize", httpx.Request("POST", "/", json={"inputs": texts}).read()
    )
    assert answer.status == 200
    assert len(answer.body[2]) == 602  # no truncation at the file's 128 or TEI's 512


def test_count_tokens_leaves_out_special_ones() -> None:
    assert TokenizerFile(MINILM).count_tokens("hello world") == 2
    assert TokenizerFile(MINILM / "tokenizer.json").count_tokens("") == 0


def test_embedder_tokenizes_in_process_against_the_stub_subprocess(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEI_STUB_TOKENIZER", str(MINILM))
    with TeiStub() as tei:
        assert tei.tokenizer == str(MINILM)
        with httpx.Client(base_url=tei.url) as client:
            emb = TeiEmbedder(client, tokenizer_path=MINILM)
            assert emb.tokenizer == "in-process"
            assert tei.counters()["tokenizes"] == 1  # the check
            assert emb.token_spans(["no request for this"]) == [
                [(0, 2), (3, 10), (11, 14), (15, 19)]
            ]
            assert tei.counters()["tokenizes"] == 1


def test_without_the_mode_the_stub_subprocess_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEI_STUB_TOKENIZER", raising=False)
    reasons: list[str] = []
    with TeiStub() as tei, httpx.Client(base_url=tei.url) as client:
        assert tei.tokenizer is None
        emb = TeiEmbedder(client, tokenizer_path=MINILM, on_fallback=lambda r, _: reasons.append(r))
        assert (emb.tokenizer, reasons) == ("tei", ["disagrees"])
