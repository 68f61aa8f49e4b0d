"""Keyword terms: folding, stemming, stop words, and a query builder that never yields a term
the query parser could misread (empty, unescaped, unbounded)."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from docqa.search.terms import (
    MAX_QUERY_TERMS,
    MAX_TERM_CHARS,
    document_terms,
    escape,
    fold,
    match_query,
    query_terms,
    words,
)
from support.generated_questions import questions


def test_words_are_folded_unicode_words() -> None:
    assert fold("Café NAÏVE ﬁancé") == "cafe naive fiance"
    assert words("Crème brûlée, d'Artagnan_x 10th-week") == [
        "creme",
        "brulee",
        "d",
        "artagnan",
        "x",
        "10th",
        "week",
    ]
    assert words("Москва Straße") == ["москва", "straße"]


@given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=60))
def test_fold_drops_every_combining_mark_and_nothing_else(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    each = "".join(char for char in decomposed if not unicodedata.combining(char))
    assert fold(text) == each


def test_document_terms_are_porter_stems_with_stop_words_kept() -> None:
    assert document_terms("The foxes were running quickly") == "the fox were run quickli"
    assert document_terms("") == ""


def test_query_terms_drop_stop_words_and_repeats() -> None:
    assert query_terms("What is the capital of France?") == ["capit", "franc"]
    assert query_terms("Running runners run") == ["run", "runner"]
    assert query_terms("In the 10th week") == ["10th", "week"]  # the crash shape, tamed
    assert query_terms("what is the") == ["what", "i", "the"]  # stop words only: keep them
    assert query_terms("?! ... ---") == []
    assert match_query("?!") is None


def test_cafe_finds_cafe_with_an_accent() -> None:
    assert query_terms("cafe") == document_terms("café").split()


def test_query_is_bounded() -> None:
    long = " ".join(f"word{i}" for i in range(1000))
    assert len(query_terms(long)) == MAX_QUERY_TERMS
    assert query_terms("x" * (MAX_TERM_CHARS + 1)) == []
    assert query_terms("x" * MAX_TERM_CHARS) == ["x" * MAX_TERM_CHARS]


def test_escape_backslashes_everything_but_letters_and_digits() -> None:
    assert escape("abc10") == "abc10"
    assert escape("a-b|c") == "a\\-b\\|c"
    assert escape("a_b") == "a\\_b"
    assert escape("é") == "é"


def test_match_query_is_a_union_of_terms() -> None:
    assert match_query("Which bridge crosses the Charles?") == "bridg|cross|charl"
    assert match_query("the") == "the"


# A term of the query language: letters and digits, or a backslash-escaped other character.
TERM = re.compile(r"(?:[^\W_]|\\.)+")


def test_generated_questions_never_make_a_bad_query() -> None:
    for question in questions(5000):
        query = match_query(question)
        if query is None:
            assert query_terms(question) == []
            continue
        parts = query.split("|")
        assert 1 <= len(parts) <= MAX_QUERY_TERMS
        for part in parts:
            # split on unescaped bars only: an escaped bar cannot occur (bars separate words)
            assert part, (question, query)
            assert TERM.fullmatch(part), (question, part)
            assert len(part) <= 2 * MAX_TERM_CHARS
