"""Hard negatives for the reranker: texts the keyword index ranks high for a question that are
not its answer. They look relevant on the surface, which is what a reranker must see through.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from docqa.adapters.keyword import SqliteKeywordIndex
from docqa.models import Chunk, content_hash

COLLECTION = "negatives"
UPSERT_BATCH = 2000
EXTRA_HITS = 5  # searched beyond k, for hits that are the positive itself


def text_id(text: str) -> str:
    return content_hash(text)[:16]


class NegativeMiner:
    """A throw-away BM25 index (SQLite, at ``path``) over ``texts``: the distinct positives."""

    def __init__(self, texts: Sequence[str], path: Path, seed: int = 0) -> None:
        self._texts = list(dict.fromkeys(texts))
        self._known = set(self._texts)
        self._index = SqliteKeywordIndex(path)
        self._rng = random.Random(seed)
        for start in range(0, len(self._texts), UPSERT_BATCH):
            part = self._texts[start : start + UPSERT_BATCH]
            self._index.upsert(COLLECTION, [Chunk(text_id(text), 0, text) for text in part])

    def negatives(self, question: str, positive: str, k: int) -> list[str]:
        """Up to ``k`` texts BM25 ranks high for ``question``, ``positive`` left out, best
        first; topped up with random texts when the keywords find too few."""
        if k <= 0:
            return []
        own = text_id(positive)
        hits = self._index.search(COLLECTION, question, top_k=k + EXTRA_HITS)
        found = [hit.text for hit in hits if hit.document_id != own and hit.text != positive][:k]
        others = len(self._texts) - (positive in self._known) - len(found)
        while len(found) < k and others > 0:
            text = self._rng.choice(self._texts)
            if text != positive and text not in found:
                found.append(text)
                others -= 1
        return found
