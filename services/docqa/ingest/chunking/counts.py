"""The token spans of a section's pieces, from one tokenization of the section where the
tokenizer is additive over whitespace (pure).

Chunking counts a section's text three times: its sentences (rule 2), its chunks again (rule
4) and each chunk with its prefix (rule 5). With a tokenizer that says it is ``additive`` (a
text's tokens are its words', each tokenized alone: ``docqa.adapters.additivity``), the tokens
of a piece that starts and ends at whitespace (or at the section's ends) are the section's
tokens inside it, and a prefix that ends in whitespace adds its own count. So the section is
tokenized once, and only the pieces cut elsewhere (a window that starts mid-word, rule 3) are
tokenized by themselves; with any other tokenizer, every piece is, as before. The spans are
the same either way (tested against the tokenizer), so the chunks and their ids are too.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Sequence

from docqa.core.ports import Tokenizer, TokenSpans

Span = tuple[int, int]


class SectionTokens:
    """A section's text and tokenizer; ``spans`` of its pieces, ``prefixed`` counts."""

    def __init__(self, text: str, tokenizer: Tokenizer) -> None:
        self.text = text
        self.tokenizer = tokenizer
        whole = tokenizer.token_spans([text])[0] if tokenizer.additive and text else None
        self._whole = whole
        self._starts = [start for start, _ in whole] if whole is not None else []

    def spans(self, pieces: Sequence[Span]) -> list[TokenSpans]:
        """Each piece's token spans (offsets into the piece), as tokenizing its text gives them;
        the pieces not read from the section's tokens are tokenized in one call."""
        found = [self._inside(piece) for piece in pieces]
        rest = [i for i, spans in enumerate(found) if spans is None]
        if rest:
            texts = [self.text[pieces[i][0] : pieces[i][1]] for i in rest]
            for i, spans in zip(rest, self.tokenizer.token_spans(texts), strict=True):
                found[i] = spans
        return [spans or [] for spans in found]

    def prefixed(self, prefix: str, size: int, pieces: Sequence[Span]) -> list[int]:
        """The tokens of ``prefix`` (``size`` of them alone) and each piece's text together."""
        if self._whole is not None and prefix and blank(prefix[-1]):
            return [size + len(spans) for spans in self.spans(pieces)]
        texts = [prefix + self.text[start:end] for start, end in pieces]
        return [len(spans) for spans in self.tokenizer.token_spans(texts)]

    def _inside(self, piece: Span) -> TokenSpans | None:
        """The section's tokens inside ``piece`` when it starts and ends at whitespace (or at
        the section's ends), offsets into the piece; None when they cannot be read so."""
        start, end = piece
        if self._whole is None or not (self._bounded(start) and self._bounded(end)):
            return None
        tokens = self._whole[bisect_left(self._starts, start) : bisect_left(self._starts, end)]
        if tokens and tokens[-1][1] > end:  # a token across the piece's end: not additive here
            return None
        return [(a - start, b - start) for a, b in tokens]

    def _bounded(self, at: int) -> bool:
        """Whether a piece may start or end at ``at``: the section's ends, or whitespace beside
        it (``blank``)."""
        text = self.text
        return at <= 0 or at >= len(text) or blank(text[at - 1]) or blank(text[at])


def blank(char: str) -> bool:
    """Whitespace to every tokenizer: a space, tab, newline or carriage return, or a Unicode
    space separator. Not the other characters Python calls space (form feed, the information
    separators, U+2028...): BERT's normalizer deletes control characters and keeps U+2028
    inside a word."""
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"
