"""context.py: the prefix rule (title and heading path), its cap, and the token budget
that chunking.chunk_document keeps with it (prefix + chunk, tokenized together)."""

# ruff: noqa: RUF001, RUF003  (U+203A joins heading paths: the strings show it as it is)

from __future__ import annotations

import random

import pytest

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.core.headings import SEPARATOR, heading_path
from docqa.core.models import Chunk, Metadata, Section
from docqa.core.ports import Tokenizer
from docqa.ingest.chunking import context
from docqa.ingest.chunking.context import (
    PREFIX_BREAK,
    indexed_texts,
    metadata_prefix,
    prefix,
)
from docqa.ingest.chunking.splitter import chunk_document
from support.fakes import CharTokenizer, JoiningTokenizer, WordTokenizer


@pytest.fixture(scope="module")
def model_tokenizer() -> LocalEmbedder:
    return LocalEmbedder()


def count(tokenizer: Tokenizer, text: str) -> int:
    return len(tokenizer.token_spans([text])[0])


def test_the_heading_path_is_the_title_then_the_section() -> None:
    assert heading_path("Security", "Simple OAuth2 › Get the username") == (
        "Security › Simple OAuth2 › Get the username"
    )
    assert heading_path("Guide", None) == "Guide"
    assert heading_path(None, "Install › Linux") == "Install › Linux"
    assert heading_path(None, None) == heading_path("  ", "\n") == ""
    assert SEPARATOR == " \u203a "


def test_a_title_the_section_starts_with_is_not_repeated() -> None:
    assert heading_path("Docker run", "Docker run › Options") == "Docker run › Options"
    assert heading_path("docker  RUN", "Docker run") == "Docker run"
    assert heading_path("Docker", "Docker run › Options") == "Docker › Docker run › Options"


def test_whitespace_in_titles_and_headings_becomes_single_spaces() -> None:
    assert heading_path("A\n title", " Part\t one ") == "A title › Part one"


def test_the_prefix_is_the_path_then_a_blank_line() -> None:
    assert prefix("Guide", "Install") == "Guide › Install" + PREFIX_BREAK == "Guide › Install\n\n"
    assert prefix(None, None) == ""
    assert metadata_prefix({"title": "Guide", "section": "Install", "page": 2}) == prefix(
        "Guide", "Install"
    )
    assert metadata_prefix({"page": 2}) == ""


def test_the_pages_description_and_keywords_follow_the_path_on_a_line_of_their_own() -> None:
    page = {"title": "cp", "description": "The cp command\n usage", "keywords": "copy, files"}
    assert metadata_prefix(page) == "cp\nThe cp command usage; copy, files\n\n"
    assert metadata_prefix({"keywords": "copy, files"}) == "copy, files\n\n"
    assert metadata_prefix({"section": "Usage", "description": " "}) == "Usage\n\n"
    assert prefix(None, None, "") == ""


def test_a_long_summary_is_cut_before_the_path() -> None:
    tokenizer = WordTokenizer()
    whole = metadata_prefix({"title": "Guide", "keywords": "one two three four five six"})
    [(cut, size)] = context.capped([whole], tokenizer, 4)
    assert cut == "Guide\none two three\n\n" and size == 4 == count(tokenizer, cut)


def test_a_long_prefix_is_cut_by_tokens_at_a_word_boundary() -> None:
    tokenizer = WordTokenizer()
    long = prefix("A very long title " * 5, "Section one › Subsection two")
    [(cut, size)] = context.capped([long], tokenizer, 6)
    assert cut == "A very long title A very\n\n" and size == 6 == count(tokenizer, cut)
    assert context.capped([long, ""], tokenizer, 100) == [
        (long, count(tokenizer, long)),
        ("", 0),
    ]
    assert context.capped([long], CharTokenizer(), 2) == [("", 0)]  # not even the break


def test_chunks_carry_the_title_and_their_section() -> None:
    sections = [
        Section("Intro text.", {"title": "From front matter"}),
        Section("How to install.", {"section": "Install", "heading_level": 2}),
    ]
    chunks = chunk_document("doc", sections, WordTokenizer(), 50, 5)
    assert [c.metadata for c in chunks] == [
        {"title": "From front matter", "start": 0, "end": 11},
        {
            "title": "From front matter",
            "section": "Install",
            "heading_level": 2,
            "start": 0,
            "end": 15,
        },
    ]
    given = chunk_document("doc", sections, WordTokenizer(), 50, 5, title="Request title")
    assert {c.metadata["title"] for c in given} == {"Request title"}  # the request's wins
    assert [c.text for c in given] == ["Intro text.", "How to install."]  # the slices


def test_the_prefix_counts_in_the_budget() -> None:
    text = " ".join(f"w{i}." for i in range(40))  # 2 tokens a sentence
    bare = chunk_document("doc", [Section(text)], WordTokenizer(), 20, 0)
    titled = chunk_document(
        "doc", [Section(text, {"section": "Part"})], WordTokenizer(), 20, 0, "T"
    )
    assert [count(WordTokenizer(), c.text) for c in bare] == [20, 20, 20, 20]
    # "T › Part" is 3 tokens: 17 left, 16 in whole sentences
    assert [count(WordTokenizer(), c.text) for c in titled] == [16] * 5
    for chunk, indexed in zip(titled, indexed_texts(titled, WordTokenizer(), 20), strict=True):
        assert indexed == "T › Part\n\n" + chunk.text


def test_non_additive_counts_shrink_the_budget_until_prefix_and_chunk_fit() -> None:
    tokenizer = JoiningTokenizer()
    text = " ".join("abc" for _ in range(30))
    chunks = chunk_document("doc", [Section(text, {"section": "Sec"})], tokenizer, 10, 0)
    indexed = indexed_texts(chunks, tokenizer, 10)
    assert all(t == "Sec\n\n" + c.text for t, c in zip(indexed, chunks, strict=True))
    assert max(count(tokenizer, t) for t in indexed) == 10  # 1 + 1 (break) + 8
    assert [count(tokenizer, c.text) for c in chunks] == [8, 8, 8, 6]  # not 9: 11 together


def test_a_stored_chunk_over_the_limit_gets_a_shorter_prefix_or_none() -> None:
    """A chunk cut for another model (reindex): its prefix is rebuilt and cut to fit."""
    tokenizer = WordTokenizer()
    chunk = Chunk("d", 0, "one two three four five six", {"title": "Alpha beta", "section": "G"})
    assert indexed_texts([chunk], tokenizer, 40) == ["Alpha beta › G\n\n" + chunk.text]
    assert indexed_texts([chunk], tokenizer, 40, limit=8) == ["Alpha beta\n\n" + chunk.text]
    assert indexed_texts([chunk], tokenizer, 40, limit=6) == [chunk.text]
    assert indexed_texts([chunk], tokenizer, 40, limit=3) == [chunk.text]  # the embedder's now
    bare = Chunk("d", 1, "no context", {"page": 1})
    assert indexed_texts([bare], tokenizer, 40) == ["no context"]


def test_no_context_costs_no_tokenizer_call() -> None:
    tokenizer = WordTokenizer()
    chunk_document("doc", [Section("Plain text. Two sentences.")], tokenizer, 30, 5)
    assert tokenizer.calls == 2  # as without prefixes: the sentences, then the chunks
    tokenizer.calls = 0
    assert indexed_texts([Chunk("d", 0, "x", {})], tokenizer, 30) == ["x"]
    assert tokenizer.calls == 0


def random_words(rng: random.Random, most: int) -> str:
    words = ["a", "tokenization", "of", "Ω", "x" * rng.randint(1, 40), "it's", "3.14", "API"]
    parts: list[str] = []
    for _ in range(rng.randint(0, most)):
        parts.append(rng.choice(words))
        parts.append(rng.choice([" ", " ", ". ", "! ", "\n", "\n\n", ", "]))
    return "".join(parts)


def random_sections(rng: random.Random) -> tuple[list[Section], str | None]:
    sections = []
    for i in range(rng.randint(1, 4)):
        metadata: Metadata = {"n": i}
        if rng.random() < 0.7:
            path = SEPARATOR.join(random_words(rng, 12) or "h" for _ in range(rng.randint(1, 6)))
            metadata["section"] = path
        if rng.random() < 0.3:
            metadata["keywords"] = ", ".join(random_words(rng, 6).split())
        sections.append(Section(random_words(rng, 150), metadata))
    title = rng.choice([None, "Short title", random_words(rng, 80) or "t", "Ω" * 300])
    return sections, title


def check_budget(chunks: list[Chunk], tokenizer: Tokenizer, max_tokens: int) -> None:
    """Every chunk's indexed text (prefix and slice, tokenized together) fits ``max_tokens``,
    starts with the chunk's whole capped prefix, and ends with the slice it stores."""
    indexed = indexed_texts(chunks, tokenizer, max_tokens)
    cap = context.cap(max_tokens)
    for chunk, text in zip(chunks, indexed, strict=True):
        assert count(tokenizer, text) <= max_tokens
        assert text.endswith(chunk.text)
        [(capped, size)] = context.capped([metadata_prefix(chunk.metadata)], tokenizer, cap)
        assert size <= cap
        assert text == capped + chunk.text


@pytest.mark.parametrize("tokenizer", [WordTokenizer(), CharTokenizer(), JoiningTokenizer()])
@pytest.mark.parametrize("seed", range(30))
def test_random_sections_with_long_titles_and_paths_fit_the_budget(
    tokenizer: Tokenizer, seed: int
) -> None:
    rng = random.Random(seed)
    max_tokens = rng.randint(8, 60)
    overlap = rng.randint(0, max_tokens // 2)
    sections, title = random_sections(rng)
    chunks = chunk_document("doc", sections, tokenizer, max_tokens, overlap, title=title)
    check_budget(chunks, tokenizer, max_tokens)
    for chunk in chunks:
        owner = sections[int(chunk.metadata["n"])]
        assert owner.text[int(chunk.metadata["start"]) : int(chunk.metadata["end"])] == chunk.text


@pytest.mark.minilm
@pytest.mark.parametrize("seed", range(10))
def test_the_model_tokenizer_keeps_the_budget(model_tokenizer: LocalEmbedder, seed: int) -> None:
    rng = random.Random(500 + seed)
    max_tokens = rng.choice([16, 40, 128, model_tokenizer.spec.max_input_tokens])
    sections, title = random_sections(rng)
    chunks = chunk_document("doc", sections, model_tokenizer, max_tokens, max_tokens // 5, title)
    assert chunks
    check_budget(chunks, model_tokenizer, max_tokens)
