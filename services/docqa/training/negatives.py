"""Hard negatives for the reranker: texts the keyword index ranks high for a question that are
not its answer. They look relevant on the surface, which is what a reranker must see through.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from docqa.search.bm25 import Bm25

EXTRA_HITS = 5  # searched beyond k, for hits that are the positive itself


class NegativeMiner:
    """BM25 over ``texts``: the distinct positives."""

    def __init__(self, texts: Sequence[str], seed: int = 0) -> None:
        self._texts = list(dict.fromkeys(texts))
        self._known = set(self._texts)
        self._index = Bm25(self._texts)
        self._rng = random.Random(seed)

    def negatives(self, question: str, positive: str, k: int) -> list[str]:
        """Up to ``k`` texts BM25 ranks high for ``question``, ``positive`` left out, best
        first; topped up with random texts when the keywords find too few."""
        if k <= 0:
            return []
        hits = [self._texts[number] for number in self._index.search(question, k + EXTRA_HITS)]
        found = [text for text in hits if text != positive][:k]
        others = len(self._texts) - (positive in self._known) - len(found)
        while len(found) < k and others > 0:
            text = self._rng.choice(self._texts)
            if text != positive and text not in found:
                found.append(text)
                others -= 1
        return found
