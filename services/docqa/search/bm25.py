"""An in-memory Okapi BM25 over docqa's keyword terms, scored as RediSearch's ``BM25STD``
(idf = ln(1 + (N - n + 0.5) / (n + 0.5)), k1 = 1.2, b = 0.75): for throw-away indexes (mining
hard negatives, tuning fusion on training articles) that need no server.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from docqa.search.terms import document_terms, query_terms

K1, B = 1.2, 0.75


class Bm25:
    """A throw-away in-memory Okapi BM25 index over texts, with the keyword index's terms
    (``docqa.search.terms``): enough for mining, with no server to start."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._lengths: list[int] = []
        for number, text in enumerate(texts):
            counts = Counter(document_terms(text).split())
            self._lengths.append(sum(counts.values()))
            for term, count in counts.items():
                self._postings[term].append((number, count))
        self._average = sum(self._lengths) / max(1, len(self._lengths))

    def search(self, question: str, top_k: int) -> list[int]:
        """The numbers of the ``top_k`` best texts for ``question``, best first."""
        return [number for number, _ in self.scored(question, top_k)]

    def scored(self, question: str, top_k: int) -> list[tuple[int, float]]:
        """``(number, BM25 score)`` of the ``top_k`` best texts for ``question``, best first."""
        total = len(self._lengths)
        scores: dict[int, float] = defaultdict(float)
        for term in query_terms(question):
            postings = self._postings.get(term, [])
            idf = math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
            for number, count in postings:
                norm = K1 * (1 - B + B * self._lengths[number] / self._average)
                scores[number] += idf * count * (K1 + 1) / (count + norm)
        best = sorted(scores, key=lambda number: (-scores[number], number))[:top_k]
        return [(number, scores[number]) for number in best]
