"""TeiEmbedder tokenizing in process with the served model's ``tokenizer.json``
(``docqa.adapters.tei_tokenizer``): used only once it gives ``/tokenize``'s spans on the sample,
else ``/tokenize`` (logged, reported); the spans, and so the chunks and their ids, are the same
either way. The stand-in (``FakeTei``) answers ``/tokenize`` with its word tokens, or with
all-MiniLM-L6-v2's ``tokenizer.json`` (``TokenizerFile``) as a TEI serving that model would."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.tei_stub.mock import FakeTei, error
from bench.tei_stub.tokenizer_file import TokenizerFile
from prometheus_client import REGISTRY

from docqa.adapters.local_embedder import default_model_path
from docqa.adapters.tei import TeiEmbedder
from docqa.adapters.tei_tokenizer import SAMPLE, FastTokenizer, TokenizerUnavailable, disagreement
from docqa.core.errors import Unavailable
from docqa.core.metrics import tokenizer_fallback
from docqa.core.models import Section
from docqa.ingest.chunking.splitter import chunk_document
from support.tei_contract import Contract

MINILM = default_model_path()
TEXTS = [
    *SAMPLE,
    "",
    "Normans (Norman: Nourmands; French: Normands; Latin: Normanni) gave their name to Normandy.",
    "Ünïcödé ﬁ ligatures, ½ fractions, \uff12 fullwidth, and the ellipsis… of a well-formed text.",
    "x" * 300,
]


@pytest.fixture
def tei(contract: Contract) -> FakeTei:
    """The stand-in as it is by default: word tokens, not MiniLM's."""
    return FakeTei(contract)


@pytest.fixture
def minilm_tei(contract: Contract) -> FakeTei:
    """A TEI serving all-MiniLM-L6-v2's tokenizer (the stand-in's vectors are still hashed)."""
    return FakeTei(contract, tokenizer=TokenizerFile(MINILM))


def embedder(tei: FakeTei, **kwargs: Any) -> TeiEmbedder:
    return TeiEmbedder(tei.client, sleep=lambda _: None, **kwargs)


def test_agreeing_tokenizer_is_used_in_process(minilm_tei: FakeTei) -> None:
    reported: list[tuple[str, str]] = []
    emb = embedder(minilm_tei, tokenizer_path=MINILM, on_fallback=lambda *a: reported.append(a))
    assert emb.tokenizer == "in-process" and reported == []
    assert emb.additive  # MiniLM's WordPiece: chunking may tokenize a section once
    assert minilm_tei.batches("/tokenize") == [list(SAMPLE)]  # the check, once
    remote = embedder(minilm_tei).token_spans(TEXTS)
    asked = len(minilm_tei.batches("/tokenize"))
    assert emb.token_spans(TEXTS) == remote
    assert len(minilm_tei.batches("/tokenize")) == asked  # no request: tokenized in process
    assert sum(map(len, remote)) > len(TEXTS) * 5  # real spans, not empty answers


def test_a_tokenizer_folder_is_read_like_its_file(minilm_tei: FakeTei) -> None:
    by_file = embedder(minilm_tei, tokenizer_path=MINILM / "tokenizer.json")
    by_folder = embedder(minilm_tei, tokenizer_path=MINILM)
    assert by_file.tokenizer == by_folder.tokenizer == "in-process"
    assert by_file.token_spans(TEXTS) == by_folder.token_spans(TEXTS)


def test_chunks_and_ids_are_the_same_either_way(minilm_tei: FakeTei) -> None:
    text = " ".join(TEXTS) * 3
    sections = [Section(text, {"page": 1}), Section("Zweite Seite: Grüße aus Köln. " * 40)]
    local = embedder(minilm_tei, tokenizer_path=MINILM)
    remote = embedder(minilm_tei)
    made = [chunk_document("d1", sections, tok, 64, 16, title="Title") for tok in (local, remote)]
    assert len(made[0]) > 10
    assert [c.id for c in made[0]] == [c.id for c in made[1]]
    assert made[0] == made[1]


def test_a_different_tokenizer_falls_back_to_tokenize(
    tei: FakeTei, caplog: pytest.LogCaptureFixture
) -> None:
    reported: list[tuple[str, str]] = []
    with caplog.at_level(logging.WARNING, logger="docqa.adapters.tei"):
        emb = embedder(tei, tokenizer_path=MINILM, on_fallback=lambda *a: reported.append(a))
    assert emb.tokenizer == "tei" and not emb.additive
    assert [reason for reason, _ in reported] == ["disagrees"]
    assert "sample text 1" in reported[0][1]  # words and WordPiece agree on the first one
    assert "disagrees" in caplog.text
    before = len(tei.batches("/tokenize"))
    assert emb.token_spans(TEXTS) == embedder(tei).token_spans(TEXTS)  # the stub's words
    assert len(tei.batches("/tokenize")) > before


@pytest.mark.parametrize("kind", ["missing", "garbage", "folder without one"])
def test_an_unloadable_tokenizer_falls_back(tei: FakeTei, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "tokenizer.json"
    if kind == "garbage":
        path.write_text('{"not": "a tokenizer"}')
    elif kind == "folder without one":
        path = tmp_path
    reported: list[tuple[str, str]] = []
    emb = embedder(tei, tokenizer_path=path, on_fallback=lambda *a: reported.append(a))
    assert emb.tokenizer == "tei"
    assert [reason for reason, _ in reported] == ["unloadable"]
    assert tei.batches("/tokenize") == []  # nothing to check
    assert emb.token_spans(["two words"]) == [[(0, 3), (4, 9)]]


def test_an_outage_during_the_check_propagates(minilm_tei: FakeTei, contract: Contract) -> None:
    minilm_tei.script_path = "/tokenize"
    minilm_tei.script = [error(contract, 503, "unhealthy", "Unhealthy")] * 2
    reported: list[tuple[str, str]] = []
    with pytest.raises(Unavailable):
        embedder(
            minilm_tei, attempts=2, tokenizer_path=MINILM, on_fallback=lambda *a: reported.append(a)
        )
    assert reported == []  # not a fallback: the embedder is built again later


def test_a_refused_check_falls_back(minilm_tei: FakeTei, contract: Contract) -> None:
    minilm_tei.script_path = "/tokenize"
    minilm_tei.script = [error(contract, 424, "backend failed", "Backend")]
    reported: list[tuple[str, str]] = []
    emb = embedder(minilm_tei, tokenizer_path=MINILM, on_fallback=lambda *a: reported.append(a))
    assert emb.tokenizer == "tei"
    assert [reason for reason, _ in reported] == ["unchecked"]
    assert "backend failed" in reported[0][1]


def test_no_path_means_tokenize_and_no_check(minilm_tei: FakeTei) -> None:
    emb = embedder(minilm_tei)
    assert emb.tokenizer == "tei" and not emb.additive  # /tokenize's tokenizer is not known
    assert minilm_tei.batches("/tokenize") == []
    emb.token_spans(["one"])
    assert minilm_tei.batches("/tokenize") == [["one"]]


def test_fast_tokenizer_ignores_the_files_truncation_and_padding() -> None:
    tokenizer = FastTokenizer.load(MINILM)  # its tokenizer.json truncates at 128 and pads
    long = "word " * 400
    spans = tokenizer.token_spans([long, "short", ""])
    assert len(spans[0]) == 400
    assert spans[1:] == [[(0, 5)], []]
    assert tokenizer.token_spans([]) == []


def test_fast_tokenizer_load_errors_are_tokenizer_unavailable(tmp_path: Path) -> None:
    with pytest.raises(TokenizerUnavailable, match="cannot load"):
        FastTokenizer.load(tmp_path / "nothing.json")


def test_disagreement_names_the_first_difference() -> None:
    texts = ["a b", "c d"]
    same = [[(0, 1), (2, 3)], [(0, 1), (2, 3)]]
    assert disagreement(texts, same, same) is None
    found = disagreement(texts, same, [same[0], [(0, 3)]])
    assert found is not None and "sample text 1" in found and "token 0" in found
    shorter = disagreement(texts, same, [same[0], [(0, 1)]])
    assert shorter is not None and "token 1 is (2, 3) here, nothing from TEI" in shorter
    assert disagreement(texts, same, same[:1]) is not None


def test_fallback_metric_counts_by_reason() -> None:
    def value(reason: str) -> float:
        found = REGISTRY.get_sample_value("docqa_tokenizer_fallbacks_total", {"reason": reason})
        return found or 0.0

    before = value("disagrees"), value("unloadable")
    tokenizer_fallback("disagrees", "detail")
    tokenizer_fallback("disagrees", "detail")
    assert (value("disagrees"), value("unloadable")) == (before[0] + 2, before[1])


def test_wiring_passes_the_setting_and_the_metric(monkeypatch: pytest.MonkeyPatch) -> None:
    from docqa import wiring
    from docqa.core.config import Settings

    made: dict[str, Any] = {}

    class Recording:
        def __init__(self, client: httpx.Client, **kwargs: Any) -> None:
            made.update(kwargs)

    monkeypatch.setattr("docqa.adapters.tei.TeiEmbedder", Recording)
    wiring._embedder(Settings(embedder="tei", tei_tokenizer_path=MINILM))
    assert made["tokenizer_path"] == MINILM
    assert made["on_fallback"] is tokenizer_fallback


def test_special_tokens_are_left_out_as_tei_does() -> None:
    class Encoding:
        def __init__(self) -> None:
            self.offsets = [(0, 0), (0, 2), (0, 0)]
            self.special_tokens_mask = [1, 0, 1]

    class Wrapped:  # a tokenizer.json whose post-processor adds specials whatever it is asked
        def no_truncation(self) -> None: ...
        def no_padding(self) -> None: ...
        def to_str(self) -> str:
            return "{}"  # a pipeline of no known stages: not additive

        def encode_batch(self, texts: list[str], add_special_tokens: bool) -> list[Encoding]:
            assert add_special_tokens is False
            return [Encoding() for _ in texts]

    assert FastTokenizer(Wrapped(), "test").token_spans(["ab", "cd"]) == [[(0, 2)], [(0, 2)]]
