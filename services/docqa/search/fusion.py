"""Fusing ``hybrid`` search's two lists, dense and keyword, into one, best first: by reciprocal
rank (``fuse``) or by a convex combination of their normalised scores (``blend``,
``normalised``), as ``Fusion`` (the settings' ``DOCQA_FUSION...``) says. Pure functions of hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import fmean, pstdev
from typing import TYPE_CHECKING, Literal

from docqa.core.config import SHIPPED
from docqa.core.models import Hit

if TYPE_CHECKING:
    from docqa.core.config import Settings

Method = Literal["rrf", "convex"]
Normalisation = Literal["none", "minmax", "max", "dbsf"]


@dataclass(frozen=True)
class Fusion:
    """How ``hybrid`` fuses the dense and keyword lists, each ``depth`` long.

    ``rrf``, reciprocal rank fusion: a chunk scores ``weight / (k + rank)`` summed over the
    lists it appears in (rank from 1); a larger ``k`` flattens the advantage of the first ranks.
    ``convex``: a chunk scores ``(1 - keyword_share) * dense + keyword_share * keyword``, each
    side its list's scores normalised (``normalised``: the dense side's cosine similarities
    by ``dense_normalisation``, the keyword side's BM25 scores by ``keyword_normalisation``);
    a chunk missing from a list gets 0 from it. Each field's default is the service's
    (``Settings``), so ``Fusion()`` is the fusion users get."""

    k: int = SHIPPED["fusion_k"]
    dense_weight: float = SHIPPED["fusion_dense_weight"]
    keyword_weight: float = SHIPPED["fusion_keyword_weight"]
    depth: int = SHIPPED["fusion_depth"]
    method: Method = SHIPPED["fusion"]
    keyword_share: float = SHIPPED["fusion_keyword_share"]
    dense_normalisation: Normalisation = SHIPPED["fusion_dense_normalisation"]
    keyword_normalisation: Normalisation = SHIPPED["fusion_keyword_normalisation"]

    @classmethod
    def configured(cls, settings: Settings) -> Fusion:
        """The fusion the settings ask for (``DOCQA_FUSION``, ``DOCQA_FUSION_K``, ...)."""
        return cls(
            k=settings.fusion_k,
            dense_weight=settings.fusion_dense_weight,
            keyword_weight=settings.fusion_keyword_weight,
            depth=settings.fusion_depth,
            method=settings.fusion,
            keyword_share=settings.fusion_keyword_share,
            dense_normalisation=settings.fusion_dense_normalisation,
            keyword_normalisation=settings.fusion_keyword_normalisation,
        )

    def combine(self, dense: Sequence[Hit], keyword: Sequence[Hit]) -> list[Hit]:
        """The two lists (best first) as one, best first."""
        if self.method == "rrf":
            return fuse([(self.dense_weight, dense), (self.keyword_weight, keyword)], self.k)
        return blend(
            dense,
            keyword,
            self.keyword_share,
            (self.dense_normalisation, self.keyword_normalisation),
        )


def fuse(lists: Sequence[tuple[float, Sequence[Hit]]], k: int) -> list[Hit]:
    """``(weight, hits)`` lists → one list by RRF score, best first (ties: first seen first).
    A chunk keeps the fields of its first appearance (the dense one carries the similarity)."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for weight, hits in lists:
        for rank, hit in enumerate(hits, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (k + rank)
            first.setdefault(hit.chunk_id, hit)
    ranked = sorted(scores, key=lambda chunk_id: -scores[chunk_id])
    return [replace(first[chunk_id], score=scores[chunk_id]) for chunk_id in ranked]


def normalised(scores: Sequence[float], how: Normalisation) -> list[float]:
    """One list's scores on a common scale. ``none``: as they are (cosine is already in
    [-1, 1]); ``minmax``: the list's lowest 0, its highest 1; ``max``: divided by the highest
    (BM25 scores are >= 0, so [0, 1]); ``dbsf`` (distribution-based score fusion): mean - 3 sd
    is 0, mean + 3 sd is 1, clipped. A list whose scores are all equal: 1 each (``dbsf``: 0.5,
    where its mean goes); a highest score of 0 under ``max``: 0 each."""
    if how == "none" or not scores:
        return list(scores)
    if how == "max":
        top = max(scores)
        return [score / top if top > 0 else 0.0 for score in scores]
    if how == "minmax":
        low, high = min(scores), max(scores)
    else:
        mean, spread = fmean(scores), 3 * pstdev(scores)
        low, high = mean - spread, mean + spread
    if high <= low:
        return [1.0 if how == "minmax" else 0.5 for _ in scores]
    return [min(1.0, max(0.0, (score - low) / (high - low))) for score in scores]


def blend(
    dense: Sequence[Hit],
    keyword: Sequence[Hit],
    keyword_share: float,
    normalisations: tuple[Normalisation, Normalisation] = ("none", "minmax"),
) -> list[Hit]:
    """Convex combination: ``(1 - keyword_share) * dense + keyword_share * keyword`` of the
    two lists' normalised scores (the dense side's ``similarity``, or its ``score`` where a hit
    has none; the keyword side's ``score``), 0 for a list a chunk is not in. Best first (ties:
    first seen first, dense before keyword); a chunk keeps its dense fields (its similarity)."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    sides = (
        (
            1 - keyword_share,
            dense,
            [h.score if h.similarity is None else h.similarity for h in dense],
        ),
        (keyword_share, keyword, [h.score for h in keyword]),
    )
    for (share, hits, raw), how in zip(sides, normalisations, strict=True):
        for hit, score in zip(hits, normalised(raw, how), strict=True):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + share * score
            first.setdefault(hit.chunk_id, hit)
    ranked = sorted(scores, key=lambda chunk_id: -scores[chunk_id])
    return [replace(first[chunk_id], score=scores[chunk_id]) for chunk_id in ranked]
