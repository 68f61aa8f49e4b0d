"""Chunking: sentence packing, overlap, long sentences, and the max_tokens invariant."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import pytest

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.core.models import Chunk, Section
from docqa.core.ports import Tokenizer, TokenSpans
from docqa.ingest.chunking.splitter import chunk_document, split_sentences
from support.fakes import CharTokenizer, WordTokenizer


class PieceTokenizer:
    """Words cut into pieces of 3 characters counted from where the text starts: a text that
    starts mid-word tokenizes differently, like WordPiece/BPE. A word's pieces depend on the
    word alone, so it may say it is ``additive``."""

    def __init__(self, additive: bool = False) -> None:
        self.additive = additive

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        out: list[TokenSpans] = []
        for text in texts:
            spans: TokenSpans = []
            for m in re.finditer(r"\S+", text):
                spans += [(i, min(i + 3, m.end())) for i in range(m.start(), m.end(), 3)]
            out.append(spans)
        return out


@pytest.fixture(scope="module")
def model_tokenizer() -> LocalEmbedder:
    return LocalEmbedder()


def count(tokenizer: Tokenizer, text: str) -> int:
    return len(tokenizer.token_spans([text])[0])


def check_invariants(
    chunks: list[Chunk], sections: Sequence[Section], tokenizer: Tokenizer, max_tokens: int
) -> None:
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 < count(tokenizer, chunk.text) <= max_tokens
        assert chunk.text == chunk.text.strip()
        start, end = chunk.metadata["start"], chunk.metadata["end"]
        assert isinstance(start, int) and isinstance(end, int)
        owners = [s for s in sections if s.text[start:end] == chunk.text]
        assert owners, "chunk text is not a slice of a section"


def random_text(rng: random.Random) -> str:
    words = ["a", "tokenization", "of", "Ω", "x" * rng.randint(1, 60), "it's", "3.14", "word"]
    parts: list[str] = []
    for _ in range(rng.randint(0, 120)):
        parts.append(rng.choice(words))
        parts.append(rng.choice([" ", " ", " ", ". ", "! ", "? ", "\n", "\n\n", ", ", '." ']))
    return "".join(parts)


def test_sentences_are_split_on_punctuation_and_blank_lines() -> None:
    text = '  One. "Two!" Three?\nFour\nstill four\n \n\nFive 3.14 e.g.five  '
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "One.",
        '"Two!"',
        "Three?",
        "Four\nstill four",
        "Five 3.14 e.g.five",
    ]
    curly = "He said \u201cStop.\u201d Then left."
    assert [curly[s:e] for s, e in split_sentences(curly)] == [curly[:15], "Then left."]
    assert split_sentences(" \n\t ") == []


def test_whole_sentences_are_packed_and_overlap_by_trailing_sentences() -> None:
    text = "A b c. D e f. G h i. J k l. M n o."  # 4 tokens per sentence
    chunks = chunk_document("doc", [Section(text)], WordTokenizer(), max_tokens=12, overlap=4)
    assert [c.text for c in chunks] == [
        "A b c. D e f. G h i.",
        "G h i. J k l. M n o.",
    ]
    assert chunks[1].metadata == {"start": text.index("G"), "end": len(text)}


def test_overlap_never_carries_the_whole_previous_chunk() -> None:
    text = "A b c. D e f. G h i."
    chunks = chunk_document("doc", [Section(text)], WordTokenizer(), max_tokens=4, overlap=3)
    assert [c.text for c in chunks] == ["A b c.", "D e f.", "G h i."]


def test_zero_overlap() -> None:
    text = "A b c. D e f. G h i. J k l."
    chunks = chunk_document("doc", [Section(text)], WordTokenizer(), max_tokens=8, overlap=0)
    assert [c.text for c in chunks] == ["A b c. D e f.", "G h i. J k l."]


def test_a_long_sentence_is_cut_at_token_boundaries_with_overlap() -> None:
    text = "Short one. " + " ".join(f"w{i}" for i in range(25)) + ". Tail."
    chunks = chunk_document("doc", [Section(text)], WordTokenizer(), max_tokens=10, overlap=3)
    texts = [c.text for c in chunks]
    assert texts[0] == "Short one."
    assert texts[1] == "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9"
    assert texts[2].startswith("w7 w8 w9 w10")
    assert texts[-1] == "Tail."
    check_invariants(chunks, [Section(text)], WordTokenizer(), 10)


def test_chunks_keep_section_metadata_and_never_cross_sections() -> None:
    sections = [
        Section("First page. Still first.", {"page": 1}),
        Section("   \n  ", {"page": 2}),
        Section("Third page.", {"page": 3}),
    ]
    chunks = chunk_document("doc", sections, WordTokenizer(), max_tokens=50, overlap=5)
    assert [(c.position, c.text, c.metadata) for c in chunks] == [
        (0, "First page. Still first.", {"page": 1, "start": 0, "end": 24}),
        (1, "Third page.", {"page": 3, "start": 0, "end": 11}),
    ]


def test_whitespace_only_input_gives_no_chunks() -> None:
    assert chunk_document("doc", [Section(" \n\n\t")], WordTokenizer(), 10, 2) == []
    assert chunk_document("doc", [], WordTokenizer(), 10, 2) == []


def test_rechunking_is_deterministic() -> None:
    sections = [Section(random_text(random.Random(7)), {"page": 1})]
    first = chunk_document("doc", sections, WordTokenizer(), max_tokens=20, overlap=5)
    second = chunk_document("doc", sections, WordTokenizer(), max_tokens=20, overlap=5)
    assert first == second
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)


def test_tokenizes_in_a_few_batched_calls_per_section() -> None:
    tokenizer = WordTokenizer()
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    chunks = chunk_document("doc", [Section(text)], tokenizer, max_tokens=30, overlap=5)
    assert len(chunks) > 10
    assert tokenizer.calls == 2  # sentences, then a check of the chunks


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        chunk_document("doc", [Section("x")], WordTokenizer(), max_tokens=0, overlap=0)
    with pytest.raises(ValueError):
        chunk_document("doc", [Section("x")], WordTokenizer(), max_tokens=5, overlap=5)


def test_non_additive_counts_still_respect_the_limit() -> None:
    text = "Ab. Cd. Ef. Gh."  # 3 characters a sentence, 4 with the space between
    chunks = chunk_document("doc", [Section(text)], CharTokenizer(), max_tokens=7, overlap=0)
    check_invariants(chunks, [Section(text)], CharTokenizer(), 7)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_an_unsatisfiable_limit_is_an_error() -> None:
    class TwoTokens:
        additive = False

        def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
            return [[(0, len(t)), (0, len(t))] if t else [] for t in texts]

    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document("doc", [Section("word")], TwoTokens(), max_tokens=1, overlap=0)


@pytest.mark.parametrize("tokenizer", [WordTokenizer(), CharTokenizer(), PieceTokenizer()])
@pytest.mark.parametrize("seed", range(40))
def test_random_texts_never_exceed_max_tokens(tokenizer: Tokenizer, seed: int) -> None:
    rng = random.Random(seed)
    max_tokens = rng.randint(1, 40)
    overlap = rng.randint(0, max_tokens - 1)
    sections = [Section(random_text(rng), {"n": i}) for i in range(rng.randint(1, 3))]
    chunks = chunk_document("doc", sections, tokenizer, max_tokens, overlap)
    check_invariants(chunks, sections, tokenizer, max_tokens)
    if any(count(tokenizer, s.text) for s in sections):
        assert chunks


@pytest.mark.minilm
def test_model_tokenizer_chunks_fit_the_model(model_tokenizer: LocalEmbedder) -> None:
    rng = random.Random(1)
    sections = [Section(random_text(rng) * 3) for _ in range(5)]
    limit = model_tokenizer.spec.max_input_tokens
    chunks = chunk_document("doc", sections, model_tokenizer, limit, 40)
    check_invariants(chunks, sections, model_tokenizer, limit)


@pytest.mark.minilm
@pytest.mark.parametrize("seed", range(15))
def test_model_tokenizer_random_small_limits(model_tokenizer: LocalEmbedder, seed: int) -> None:
    rng = random.Random(100 + seed)
    max_tokens = rng.randint(4, 30)  # 1 can be unsatisfiable: "##ization" alone is 2 tokens
    overlap = rng.randint(0, max_tokens - 1)
    sections = [Section(random_text(rng))]
    chunks = chunk_document("doc", sections, model_tokenizer, max_tokens, overlap)
    check_invariants(chunks, sections, model_tokenizer, max_tokens)


@pytest.mark.minilm
def test_model_tokenizer_long_word_is_windowed(model_tokenizer: LocalEmbedder) -> None:
    text = "Intro sentence. " + "-".join(["supercalifragilistic"] * 40) + " end."  # one "word"
    chunks = chunk_document("doc", [Section(text)], model_tokenizer, 16, 4)
    check_invariants(chunks, [Section(text)], model_tokenizer, 16)
    assert chunks[0].text == "Intro sentence."
    assert len(chunks) > 5
