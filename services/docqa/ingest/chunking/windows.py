"""Token windows over a text: how chunking cuts a sentence or a chunk that is over its budget
(``chunking`` rules 3 and 4), from the embedding model's token spans (pure)."""

from __future__ import annotations

from docqa.core.ports import TokenSpans

Span = tuple[int, int]


def windows(text: str, spans: TokenSpans, size: int, overlap: int) -> list[Span]:
    """Character spans of windows of at most ``size`` tokens, overlapping by <= ``overlap``.

    ``spans`` are offsets into ``text``. A cut is moved back to a clean place (whitespace between
    the tokens, or punctuation on either side) when one lies in the window's second half: a text
    that starts mid-word may tokenize differently. The next window starts at the first clean
    place inside the requested overlap, else exactly ``overlap`` tokens back.
    """
    n = len(spans)
    out: list[Span] = []
    i = 0
    while True:
        j = min(i + size, n)
        if j < n:
            for k in range(j, i + max(1, size // 2), -1):
                if clean_cut(text, spans, k):
                    j = k
                    break
        out.append((spans[i][0], spans[j - 1][1]))
        if j >= n:
            return out
        next_i = max(i + 1, j - overlap)  # mid-word if no word start lies in the overlap
        for k in range(next_i, j):
            if clean_cut(text, spans, k):
                next_i = k
                break
        i = next_i


def clean_cut(text: str, spans: TokenSpans, k: int) -> bool:
    """Whether a cut before token ``k`` falls between words or at punctuation (not mid-word)."""
    start, previous_end = spans[k][0], spans[k - 1][1]
    return (
        start > previous_end
        or (start < len(text) and not text[start].isalnum())
        or (previous_end > 0 and not text[previous_end - 1].isalnum())
    )
