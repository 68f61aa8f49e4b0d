"""Finding the chunks that answer a question, top-down:

1. dense: embed the question with the collection's own model, ask Chroma for the nearest chunks;
2. keyword: BM25 over the same chunks (adapters/keyword.py);
3. hybrid (the default): the two lists fused, by reciprocal rank (``rrf``) or by a convex
   combination of their normalised scores (``convex``; ``Fusion``);
4. rerank (optional): a cross-encoder re-scores the first fused candidates, and its order is
   fused (RRF) with the order they came in (``Reranking``).

The question is embedded by the same embedder (same model, pooling, normalisation) that
indexed the collection; a collection indexed with another model is refused, never mixed.

The keyword index lives in a Redis of its own: when it is out (``Unavailable``), ``hybrid``
answers with the dense list alone and names what it left out (``Retrieved.degraded``; the
``on_degraded`` hook counts it), while ``keyword`` mode has nothing to answer with (503).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import fmean, pstdev
from typing import TYPE_CHECKING, Literal

from docqa.errors import Conflict, InvalidInput, NotFound, Unavailable
from docqa.models import EmbeddingSpec, Hit, Metadata
from docqa.ports import Embedder, KeywordIndex, Reranker, VectorStore

if TYPE_CHECKING:
    from docqa.config import Settings

Mode = Literal["dense", "keyword", "hybrid"]
LeftOut = Literal["keyword"]  # what a degraded search can leave out
Method = Literal["rrf", "convex"]
Normalisation = Literal["none", "minmax", "max", "dbsf"]
RERANK_K = 60  # RRF's usual k, for fusing the reranker's order with the first stage's


@dataclass(frozen=True)
class Fusion:
    """How ``hybrid`` fuses the dense and keyword lists, each ``depth`` long.

    ``rrf``, reciprocal rank fusion: a chunk scores ``weight / (k + rank)`` summed over the
    lists it appears in (rank from 1); a larger ``k`` flattens the advantage of the first ranks.
    ``convex``: a chunk scores ``(1 - keyword_share) * dense + keyword_share * keyword``, each
    side its list's scores normalised (``normalised``: the dense side's cosine similarities
    by ``dense_normalisation``, the keyword side's BM25 scores by ``keyword_normalisation``);
    a chunk missing from a list gets 0 from it."""

    k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    depth: int = 50
    method: Method = "rrf"
    keyword_share: float = 0.5
    dense_normalisation: Normalisation = "none"
    keyword_normalisation: Normalisation = "minmax"

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


@dataclass(frozen=True)
class Reranking:
    """A cross-encoder re-scores the first ``depth`` candidates; its order is then fused by RRF
    (k = ``RERANK_K``) with the order they came in, which weighs ``keep_weight`` against the
    cross-encoder's 1. Keep weight 0: the cross-encoder's order alone."""

    depth: int = 20
    keep_weight: float = 0.0

    @classmethod
    def configured(cls, settings: Settings) -> Reranking:
        """``DOCQA_RERANK_DEPTH`` and ``DOCQA_RERANK_KEEP_WEIGHT``."""
        return cls(depth=settings.rerank_depth, keep_weight=settings.rerank_keep_weight)


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


@dataclass(frozen=True)
class Retrieved:
    """Hits, best first, and the parts of the search that were out and left out (``keyword``)."""

    hits: list[Hit]
    degraded: tuple[LeftOut, ...] = ()


def _ignore(part: str, error: Unavailable) -> None:
    """The default ``on_degraded``: nothing recorded (the service passes its metric)."""


@dataclass(frozen=True)
class Retriever:
    embedder: Callable[[], Embedder]  # resolved on use: keyword search needs no model
    store: VectorStore
    keywords: KeywordIndex
    fusion: Fusion = Fusion()
    reranker: Callable[[], Reranker] | None = None
    reranking: Reranking = Reranking()
    on_degraded: Callable[[str, Unavailable], None] = _ignore  # a part left out, and why

    def retrieve(
        self,
        question: str,
        collection: str,
        *,
        top_k: int,
        where: Metadata | None = None,
        mode: Mode = "hybrid",
        rerank: bool = False,
    ) -> Retrieved:
        spec = self.store.collection_spec(collection)
        if spec is None:
            raise NotFound(f"collection {collection!r} does not exist (or has no documents yet)")
        if rerank and self.reranker is None:
            raise InvalidInput("rerank is on but no reranker is configured (DOCQA_RERANKER)")
        depth = max(top_k, self.reranking.depth if rerank else 0)
        if mode == "hybrid":
            depth = max(depth, self.fusion.depth)
        dense = self._dense(question, collection, spec, depth, where) if mode != "keyword" else []
        keyword: list[Hit] = []
        degraded: tuple[LeftOut, ...] = ()
        if mode != "dense":
            try:
                keyword = self.keywords.search(collection, question, depth, where)
            except Unavailable as exc:
                if mode == "keyword":
                    raise
                self.on_degraded("keyword", exc)
                degraded = ("keyword",)
        hits = self.fusion.combine(dense, keyword) if mode == "hybrid" else dense or keyword
        if rerank and self.reranker is not None:
            hits = rerank_head(question, hits, self.reranker(), self.reranking)
        return Retrieved(hits[:top_k], degraded)

    def _dense(
        self,
        question: str,
        collection: str,
        spec: EmbeddingSpec,
        depth: int,
        where: Metadata | None,
    ) -> list[Hit]:
        embedder = self.embedder()
        check_model(collection, spec, embedder.spec)
        [vector] = embedder.embed([question])
        hits = self.store.query(collection, vector, depth, where)
        return [replace(hit, similarity=hit.score) for hit in hits]


def rerank_head(
    question: str, hits: list[Hit], reranker: Reranker, reranking: Reranking
) -> list[Hit]:
    """The first ``reranking.depth`` hits re-ordered with the cross-encoder (see ``reorder``)."""
    head = hits[: reranking.depth]
    if not head:
        return hits
    scores = reranker.rerank(question, [hit.text for hit in head])
    return reorder(hits, scores, reranking.keep_weight)


def reorder(hits: list[Hit], scores: Sequence[float], keep: float = 0.0) -> list[Hit]:
    """The first ``len(scores)`` hits re-ordered by the cross-encoder's ``scores``; the rest
    follow in the order they had. With ``keep`` 0 the cross-encoder's score orders them (and
    becomes their score); otherwise its order and theirs are fused by RRF (k = ``RERANK_K``),
    weights 1 and ``keep``, and the fused score is theirs: a cross-encoder's confident
    mistakes are outvoted where the first stage ranked another chunk well above."""
    head, tail = hits[: len(scores)], hits[len(scores) :]
    scored = sorted(zip(scores, head, strict=True), key=lambda pair: -pair[0])
    reranked = [replace(hit, score=float(score)) for score, hit in scored]
    if keep > 0:
        reranked = fuse([(1.0, reranked), (keep, head)], RERANK_K)
    return reranked + tail


def check_model(collection: str, indexed: EmbeddingSpec, current: EmbeddingSpec) -> None:
    """Refuse to mix vectors of two models (or poolings, or normalisations) in one collection."""
    if indexed != current:
        raise Conflict(
            f"collection {collection!r} was indexed with {indexed.model_id} "
            f"({indexed.dimension}-d) but this service embeds with {current.model_id} "
            f"({current.dimension}-d); re-index into a new collection or configure the same model"
        )
