"""Chunking with an additive tokenizer (the section tokenized once, ``counts``) gives exactly
the chunks, ids, counted texts and counts of tokenizing every piece by itself: random
documents, a fake additive tokenizer and the embedded model's own."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.core.models import Section
from docqa.core.ports import Tokenizer, TokenSpans
from docqa.ingest.chunking.splitter import indexed_chunks
from support.fakes import WordTokenizer

# Words, marks and every kind of space a document may hold (U+2028 and the control characters
# are space to Python, not to BERT), a word longer than a chunk, CJK without spaces, accents.
PARTS = [
    "the",
    "tokenization",
    "Ω",
    "naïve",
    "e\u0301t\u00e9",
    "東京は日本の首都です。",
    "x" * 140,
    "it's",
    "3.14",
    "`code_path/x.py`",
    "[SEP]",
    "👩🏽‍💻",
    ". ",
    "! ",
    "? ",
    ", ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "\u00a0",
    "\u3000",
    "\u2028",
    "\x0c",
    "\x1c",
    "\r\n",
]
texts = st.lists(st.sampled_from(PARTS), max_size=160).map("".join)
sections = st.lists(
    st.tuples(texts, st.sampled_from([None, "Install", "Guide \u203a Set up the tool"])),
    min_size=1,
    max_size=3,
)


class Plain:
    """``tokenizer`` said not to be additive: every piece tokenized by itself, as before."""

    additive = False

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        return self.tokenizer.token_spans(texts)


def same_chunks(
    tokenizer: Tokenizer,
    parts: list[tuple[str, str | None]],
    title: str | None,
    max_tokens: int,
    overlap: int,
) -> None:
    made = [Section(text, {"section": section} if section else {}) for text, section in parts]
    once = indexed_chunks("doc", made, tokenizer, max_tokens, overlap, title=title)
    each = indexed_chunks("doc", made, Plain(tokenizer), max_tokens, overlap, title=title)
    assert [(chunk.id, chunk.metadata, text) for chunk, text in once] == [
        (chunk.id, chunk.metadata, text) for chunk, text in each
    ]


@settings(max_examples=300, deadline=None)
@given(
    parts=sections,
    title=st.sampled_from([None, "Short title"]),
    max_tokens=st.integers(4, 64),
    overlap=st.integers(0, 8),
)
def test_a_fake_additive_tokenizer_chunks_as_before(
    parts: list[tuple[str, str | None]], title: str | None, max_tokens: int, overlap: int
) -> None:
    same_chunks(
        WordTokenizer(additive=True), parts, title, max_tokens, min(overlap, max_tokens - 1)
    )


@pytest.fixture(scope="module")
def model() -> LocalEmbedder:
    embedder = LocalEmbedder()
    assert embedder.additive
    return embedder


@pytest.mark.minilm
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=sections,
    title=st.sampled_from([None, "Short title"]),
    max_tokens=st.sampled_from([12, 40, 128, 256]),
)
def test_the_embedded_models_tokenizer_chunks_as_before(
    model: LocalEmbedder, parts: list[tuple[str, str | None]], title: str | None, max_tokens: int
) -> None:
    same_chunks(model, parts, title, max_tokens, min(8, max_tokens // 4))
