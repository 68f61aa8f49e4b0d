"""Pure: the passage sentences an answer's claim is weighed against, and the few of them
(``candidates``) that hold most of its terms: only those are embedded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from docqa.answer.sentences import split
from docqa.core.models import Hit
from docqa.search.terms import stem, words

# Passage spans embedded per answer unit (those holding most of its terms; ``candidates``).
CANDIDATES = 3


@dataclass(frozen=True)
class Span:
    source: int  # 1-based
    start: int
    end: int
    text: str
    terms: frozenset[str]


def terms_of(text: str) -> frozenset[str]:
    """Every stem of ``text`` (stop words kept: a passage is matched against, not searched)."""
    return frozenset(stem(word) for word in words(text))


def share(needed: Sequence[str], held: frozenset[str]) -> float:
    return sum(term in held for term in needed) / len(needed) if needed else 0.0


def passage_spans(sources: Sequence[Hit]) -> list[Span]:
    spans: list[Span] = []
    for n, hit in enumerate(sources, start=1):
        for unit in split(hit.text):
            spans.append(Span(n, unit.start, unit.end, unit.text, terms_of(unit.text)))
    return spans


def candidates(
    needed: Sequence[str], fresh: Sequence[str], cited: Sequence[int], spans: Sequence[Span]
) -> list[int]:
    """The passage spans worth embedding for a claim of terms ``needed``: the ``CANDIDATES``
    that hold most of them, the ``fresh`` ones (those the question did not give) counted
    twice (ties: the span more of whose own terms the claim holds, then the earlier); and
    the best such span of each passage the claim cites."""
    held = frozenset(needed)

    def rank(index: int) -> tuple[float, float, int]:
        span = spans[index]
        own = len(span.terms & held) / len(span.terms) if span.terms else 0.0
        return (-share(needed, span.terms) - share(fresh, span.terms), -own, index)

    ordered = sorted(range(len(spans)), key=rank)
    picked = dict.fromkeys(ordered[:CANDIDATES])
    for number in cited:
        first = next((i for i in ordered if spans[i].source == number), None)
        if first is not None:
            picked.setdefault(first, None)
    return list(picked)
