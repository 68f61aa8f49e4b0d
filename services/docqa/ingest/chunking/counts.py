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
    """A section's text and tokenizer: its pieces' token ``counts`` and ``spans``, and
    ``prefixed`` counts. A piece tokenized by itself is tokenized once (kept by its span)."""

    def __init__(self, text: str, tokenizer: Tokenizer) -> None:
        self.text = text
        self.tokenizer = tokenizer
        whole = tokenizer.token_spans([text])[0] if tokenizer.additive and text else None
        self._whole = whole
        self._starts = [start for start, _ in whole] if whole is not None else []
        self._alone: dict[Span, TokenSpans] = {}  # pieces tokenized by themselves

    def counts(self, pieces: Sequence[Span]) -> list[int]:
        """Each piece's number of tokens, as tokenizing its text gives it; the pieces not read
        from the section's tokens are tokenized in one call."""
        found = [self._range(piece) for piece in pieces]
        self._tokenize([piece for piece, at in zip(pieces, found, strict=True) if at is None])
        return [
            at[1] - at[0] if at is not None else len(self._alone[piece])
            for piece, at in zip(pieces, found, strict=True)
        ]

    def spans(self, piece: Span) -> TokenSpans:
        """The piece's token spans, as offsets into the section."""
        at = self._range(piece)
        if at is not None and self._whole is not None:
            return self._whole[at[0] : at[1]]
        self._tokenize([piece])
        start = piece[0]
        return [(start + a, start + b) for a, b in self._alone[piece]]

    def prefixed(self, prefix: str, size: int, pieces: Sequence[Span]) -> list[int]:
        """The tokens of ``prefix`` (``size`` of them alone) and each piece's text together."""
        if self._whole is not None and prefix and blank(prefix[-1]):
            return [size + count for count in self.counts(pieces)]
        texts = [prefix + self.text[start:end] for start, end in pieces]
        return [len(spans) for spans in self.tokenizer.token_spans(texts)]

    def _tokenize(self, pieces: Sequence[Span]) -> None:
        wanted = list(dict.fromkeys(piece for piece in pieces if piece not in self._alone))
        if wanted:
            texts = [self.text[start:end] for start, end in wanted]
            self._alone.update(zip(wanted, self.tokenizer.token_spans(texts), strict=True))

    def _range(self, piece: Span) -> tuple[int, int] | None:
        """Where the section's tokens inside ``piece`` lie among them, when it starts and ends
        at whitespace (or at the section's ends); None when its tokens cannot be read so."""
        start, end = piece
        if self._whole is None or not (self._bounded(start) and self._bounded(end)):
            return None
        first, last = bisect_left(self._starts, start), bisect_left(self._starts, end)
        if last > first and self._whole[last - 1][1] > end:  # a token across the piece's end
            return None
        return first, last

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
