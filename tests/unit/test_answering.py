"""Which hits count as relevant before the model sees them."""

from __future__ import annotations

from docqa.answering import relevant
from docqa.models import Hit


def hit(chunk_id: str, similarity: float | None) -> Hit:
    return Hit(chunk_id, "d", "text", 0.0, {}, similarity)


def test_dense_hits_below_min_score_are_dropped() -> None:
    hits = [hit("a", 0.6), hit("b", 0.2), hit("c", None)]
    assert [h.chunk_id for h in relevant(hits, 0.25)] == ["a", "c"]


def test_nothing_relevant_when_no_similarity_reaches_min_score() -> None:
    assert relevant([hit("a", 0.1), hit("b", None)], 0.25) == []


def test_keyword_only_hits_are_kept() -> None:
    hits = [hit("a", None), hit("b", None)]
    assert relevant(hits, 0.25) == hits
    assert relevant([], 0.25) == []
