"""Pure: the units ``repetition`` compares in an answer: its lines (where each is, whether it
is complete, and the form lines compare in) and its words (where each is, lowercased, whether
an n-gram may begin at it, whether it is complete).

Lines compare lowercased, whitespace collapsed, a list marker (``-``, ``*``, ``+``, ``•``,
``1.``, ``2)``) and trailing punctuation dropped. Words are runs of letters and digits; one
within the first ``LINE_OPENING`` words of a line (its list marker aside) begins no n-gram
that counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINE_OPENING = 4  # n-grams beginning within a line's first 4 words do not count

_WORD = re.compile(r"[^\W_]+")
_MARKER = re.compile(r"[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+")


def line_key(line: str) -> str | None:
    """The form lines compare in; None for a line without a letter or digit."""
    body = line[m.end() :] if (m := _MARKER.match(line)) else line
    key = " ".join(body.lower().split()).rstrip(".,;:!?")
    return key if any(ch.isalnum() for ch in key) else None


def line_spans(text: str, final: bool) -> list[tuple[int, int, bool]]:
    """(start, end, complete) of each line; the last is complete only when ``final``."""
    spans: list[tuple[int, int, bool]] = []
    start = 0
    while (nl := text.find("\n", start)) >= 0:
        spans.append((start, nl, True))
        start = nl + 1
    spans.append((start, len(text), final))
    return spans


@dataclass(frozen=True)
class Word:
    """A word of the text: where it is, lowercased, whether an n-gram may begin at it."""

    start: int
    end: int
    text: str
    counts: bool  # an n-gram beginning here counts (not within a line's opening)
    complete: bool


def words_of(text: str, final: bool) -> list[Word]:
    """The words of ``text``, in order; a word is complete when text follows it, or when
    ``final``."""
    words: list[Word] = []
    for start, end, _ in line_spans(text, True):
        line = text[start:end]
        marker = m.end() if (m := _MARKER.match(line)) else 0
        position = 0
        for match in _WORD.finditer(line):
            at = start + match.start()
            counts = match.start() >= marker and position >= LINE_OPENING
            if match.start() >= marker:
                position += 1
            done = start + match.end() < len(text) or final
            words.append(Word(at, start + match.end(), match.group().lower(), counts, done))
    return words
