"""A section tokenized once: the spans of its pieces read from it are those that tokenizing
each piece gives, and only pieces cut mid-word are tokenized again."""

from __future__ import annotations

import re
from collections.abc import Sequence

from docqa.core.ports import TokenSpans
from docqa.ingest.chunking.counts import SectionTokens, blank
from support.fakes import WordTokenizer

TEXT = "One two. Three four five!\n\nSix\u00a0seven, eight.\tNine\u2028ten"


def pieces_at_whitespace(text: str) -> list[tuple[int, int]]:
    """Each word, and each run of words from the text's start: pieces bounded by whitespace."""
    words = [m.span() for m in re.finditer(r"[^ \t\n\u00a0]+", text)]
    return words + [(0, end) for _, end in words]


def alone(pieces: Sequence[tuple[int, int]]) -> list[TokenSpans]:
    """Each piece tokenized by itself, offsets into ``TEXT``."""
    found = WordTokenizer().token_spans([TEXT[s:e] for s, e in pieces])
    return [[(s + a, s + b) for a, b in spans] for (s, _), spans in zip(pieces, found, strict=True)]


def test_pieces_bounded_by_whitespace_are_read_from_one_tokenization() -> None:
    tokenizer = WordTokenizer(additive=True)
    tokens = SectionTokens(TEXT, tokenizer)
    pieces = pieces_at_whitespace(TEXT)
    assert len(pieces) > 4
    counts = tokens.counts(pieces)
    spans = [tokens.spans(piece) for piece in pieces]
    assert tokenizer.calls == 1  # the section, once
    assert spans == alone(pieces)
    assert counts == [len(found) for found in spans]


def test_a_piece_cut_mid_word_is_tokenized_by_itself_once() -> None:
    tokenizer = WordTokenizer(additive=True)
    tokens = SectionTokens(TEXT, tokenizer)
    mid = (TEXT.index("hree"), TEXT.index("five") + 4)
    assert tokens.counts([mid]) == [len(alone([mid])[0])]
    assert tokens.spans(mid) == alone([mid])[0]
    assert tokenizer.calls == 2 and tokenizer.texts == 2  # the section, then the piece


def test_a_tokenizer_that_is_not_additive_tokenizes_every_piece_once() -> None:
    tokenizer = WordTokenizer(additive=False)
    tokens = SectionTokens(TEXT, tokenizer)
    pieces = pieces_at_whitespace(TEXT)
    counts = tokens.counts(pieces)
    assert [tokens.spans(piece) for piece in pieces] == alone(pieces)
    assert counts == [len(found) for found in alone(pieces)]
    assert tokenizer.calls == 1 and tokenizer.texts == len(set(pieces))


def test_a_prefix_ending_in_whitespace_adds_its_own_count() -> None:
    prefix = "Guide \u203a Install\n\n"
    additive, plain = WordTokenizer(additive=True), WordTokenizer()
    [size] = [len(spans) for spans in plain.token_spans([prefix])]
    pieces = pieces_at_whitespace(TEXT)
    read = SectionTokens(TEXT, additive).prefixed(prefix, size, pieces)
    assert additive.calls == 1
    assert read == SectionTokens(TEXT, plain).prefixed(prefix, size, pieces)


def test_only_a_tokenizers_whitespace_bounds_a_piece() -> None:
    assert blank(" ") and blank("\t") and blank("\n") and blank("\u00a0") and blank("\u3000")
    # Python calls these space; BERT deletes the first two and keeps U+2028 inside a word
    assert not blank("\x0c") and not blank("\x1c") and not blank("\u2028")


def test_a_piece_beside_a_character_python_calls_space_is_tokenized_again() -> None:
    class Joining:  # a tokenizer that, like BERT, joins the words around U+2028
        additive = True

        def __init__(self) -> None:
            self.texts: list[str] = []

        def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
            self.texts += texts
            return [[m.span() for m in re.finditer(r"[^ \t\n]+", t)] for t in texts]

    tokenizer = Joining()
    tokens = SectionTokens(TEXT, tokenizer)
    nine = TEXT.index("Nine")
    assert tokens.spans((nine, nine + 4)) == [(nine, nine + 4)]  # "Nine" alone: asked again
    assert tokenizer.texts[-1] == "Nine"
