"""Finding the chunks that answer a question, top-down:

1. dense: embed the question with the collection's own model, ask Chroma for the nearest chunks;
2. keyword: BM25 over the same chunks (adapters/keyword.py);
3. hybrid (the default): the two lists fused, by reciprocal rank (``rrf``) or by a convex
   combination of their normalised scores (``convex``; ``fusion.Fusion``);
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
from typing import TYPE_CHECKING, Literal

from docqa.core.config import SHIPPED
from docqa.core.errors import Conflict, InvalidInput, NotFound, Unavailable
from docqa.core.models import EmbeddingSpec, Hit, Metadata
from docqa.core.ports import Embedder, KeywordIndex, Reranker, VectorStore
from docqa.search.fusion import Fusion, fuse

if TYPE_CHECKING:
    from docqa.core.config import Settings

Mode = Literal["dense", "keyword", "hybrid"]
LeftOut = Literal["keyword"]  # what a degraded search can leave out
RERANK_K = 60  # RRF's usual k, for fusing the reranker's order with the first stage's


@dataclass(frozen=True)
class Reranking:
    """A cross-encoder re-scores the first ``depth`` candidates; its order is then fused by RRF
    (k = ``RERANK_K``) with the order they came in, which weighs ``keep_weight`` against the
    cross-encoder's 1. Keep weight 0: the cross-encoder's order alone. The defaults are the
    service's (``Settings``)."""

    depth: int = SHIPPED["rerank_depth"]
    keep_weight: float = SHIPPED["rerank_keep_weight"]

    @classmethod
    def configured(cls, settings: Settings) -> Reranking:
        """``DOCQA_RERANK_DEPTH`` and ``DOCQA_RERANK_KEEP_WEIGHT``."""
        return cls(depth=settings.rerank_depth, keep_weight=settings.rerank_keep_weight)


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
    fusion: Fusion = Fusion()  # noqa: RUF009 (frozen: one shared default is safe)
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
