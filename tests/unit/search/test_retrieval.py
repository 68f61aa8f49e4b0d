"""Retrieval: the modes, reranking, and the model check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from docqa.core.errors import Conflict, InvalidInput, NotFound, Unavailable
from docqa.core.models import EmbeddingSpec, Hit, Metadata
from docqa.search.fusion import Fusion
from docqa.search.retrieval import (
    RERANK_K,
    Reranking,
    Retriever,
    rerank_head,
)
from support.fakes import FakeEmbedder, FakeKeywordIndex, FakeStore

SPEC = EmbeddingSpec("model", 2, True, 128)


def hit(chunk_id: str, score: float = 0.0, similarity: float | None = None) -> Hit:
    return Hit(chunk_id, chunk_id.split(":")[0], f"text {chunk_id}", score, {}, similarity)


class Reversing:
    """Scores texts by their position from the end: reverses what it is given."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        self.calls.append(list(texts))
        return [float(i) for i in range(len(texts))]

    def check(self) -> None:
        pass


def test_rerank_head_reorders_only_the_head() -> None:
    reranker = Reversing()
    hits = [hit("a", 3), hit("b", 2), hit("c", 1), hit("d", 0)]
    out = rerank_head("q", hits, reranker, Reranking(depth=3, keep_weight=0.0))
    assert [h.chunk_id for h in out] == ["c", "b", "a", "d"]
    assert [h.score for h in out] == [2.0, 1.0, 0.0, 0.0]
    assert reranker.calls == [["text a", "text b", "text c"]]
    assert rerank_head("q", [], reranker, Reranking(depth=3, keep_weight=0.0)) == []


def test_rerank_head_fuses_the_cross_encoder_order_with_the_first_stage_one() -> None:
    hits = [hit("a", 3), hit("b", 2), hit("c", 1), hit("d", 0)]
    # the cross-encoder says c, b, a; the first stage said a, b, c
    light = rerank_head("q", hits, Reversing(), Reranking(3, keep_weight=0.5))
    assert [h.chunk_id for h in light] == ["c", "b", "a", "d"]
    k = RERANK_K
    assert light[0].score == pytest.approx(1 / (k + 1) + 0.5 / (k + 3))
    assert light[3].score == 0.0  # past the depth: untouched
    heavy = rerank_head("q", hits, Reversing(), Reranking(3, keep_weight=2.0))
    assert [h.chunk_id for h in heavy] == ["a", "b", "c", "d"]
    assert heavy[0].score == pytest.approx(1 / (k + 3) + 2.0 / (k + 1))


def embedder(spec: EmbeddingSpec = SPEC) -> FakeEmbedder:
    return FakeEmbedder(spec.dimension, spec.max_input_tokens, model=spec.model_id)


class Store(FakeStore):
    """A vector store whose dense hits are ``hits``, whatever the question; it notes each
    ``top_k`` asked. Its collections are all of ``spec`` (None: there are none)."""

    def __init__(self, hits: list[Hit], spec: EmbeddingSpec | None = SPEC) -> None:
        super().__init__()
        self.hits, self.spec, self.asked = hits, spec, list[int]()

    def collection_spec(self, collection: str) -> EmbeddingSpec | None:
        self._serve()
        return self.spec

    def query(
        self, collection: str, vector: Sequence[float], top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        self._serve()
        self.asked.append(top_k)
        return self.hits[:top_k]


class Keywords(FakeKeywordIndex):
    """A keyword index whose hits are ``hits``, whatever the question; it notes each ``top_k``
    asked (``down = "why"``: its Redis is out)."""

    def __init__(self, hits: list[Hit]) -> None:
        super().__init__()
        self.hits, self.asked = hits, list[int]()

    def search(
        self, collection: str, query: str, top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        self._serve()
        self.asked.append(top_k)
        return self.hits[:top_k]


def retriever(
    store: Store, keywords: Keywords, model: FakeEmbedder | None = None, **options: Any
) -> Retriever:
    """A retriever over the fakes; ``options`` are the other fields of ``Retriever``."""
    chosen = model or embedder()
    return Retriever(
        embedder=lambda: chosen,
        store=store,
        keywords=keywords,
        fusion=Fusion(depth=4),  # the shipped fusion, over lists of 4
        **options,
    )


def test_modes() -> None:
    store = Store([hit("a", 0.9), hit("b", 0.8), hit("c", 0.7)])
    keywords = Keywords([hit("c", 12.0), hit("d", 9.0)])
    model = embedder()
    found = retriever(store, keywords, model)

    dense = found.retrieve("q", "c", top_k=2, mode="dense").hits
    assert [(h.chunk_id, h.score, h.similarity) for h in dense] == [
        ("a", 0.9, 0.9),
        ("b", 0.8, 0.8),
    ]
    assert keywords.asked == [] and store.asked == [2]

    keyword = found.retrieve("q", "c", top_k=2, mode="keyword").hits
    assert [h.chunk_id for h in keyword] == ["c", "d"]
    assert model.calls == [1]  # keyword search embeds nothing

    hybrid = found.retrieve("q", "c", top_k=3, mode="hybrid").hits
    # c: 1/63 + 1/61; a: 1/61; b and d tie at 1/62, and b was seen first
    assert [h.chunk_id for h in hybrid] == ["c", "a", "b"]
    assert store.asked[-1] == 4 and keywords.asked[-1] == 4  # each list fusion-depth long
    assert hybrid[0].similarity == 0.7
    assert found.retrieve("q", "c", top_k=4, mode="hybrid").hits[3].similarity is None  # d


def test_hybrid_degrades_to_dense_when_the_keyword_index_is_out_and_keyword_fails() -> None:
    recorded: list[tuple[str, str]] = []
    down = Keywords([])
    down.down = "refused"  # its Redis is out
    found = retriever(
        Store([hit("a", 0.9), hit("b", 0.8)]),
        down,
        on_degraded=lambda part, error: recorded.append((part, error.service)),
    )
    hybrid = found.retrieve("q", "c", top_k=2, mode="hybrid")
    assert [h.chunk_id for h in hybrid.hits] == ["a", "b"] and hybrid.degraded == ("keyword",)
    assert recorded == [("keyword", "keyword_index")]
    with pytest.raises(Unavailable):
        found.retrieve("q", "c", top_k=2, mode="keyword")
    assert found.retrieve("q", "c", top_k=2, mode="dense").degraded == ()
    assert recorded == [("keyword", "keyword_index")]  # dense and keyword mode record nothing
    whole = retriever(Store([hit("a", 0.9)]), Keywords([hit("a", 3.0)]))
    assert whole.retrieve("q", "c", top_k=2).degraded == ()


def test_convex_hybrid_degrades_to_the_dense_order() -> None:
    down = Keywords([hit("c", 9.0)])
    down.down = "refused"
    convex = Fusion(depth=4, method="convex", keyword_share=0.9)
    store = Store([hit("a", 0.9), hit("b", 0.8)])
    model = embedder()
    found = Retriever(embedder=lambda: model, store=store, keywords=down, fusion=convex)
    hybrid = found.retrieve("q", "c", top_k=3, mode="hybrid")
    assert hybrid.degraded == ("keyword",)
    assert [(h.chunk_id, h.similarity) for h in hybrid.hits] == [("a", 0.9), ("b", 0.8)]
    assert [h.score for h in hybrid.hits] == pytest.approx([0.1 * 0.9, 0.1 * 0.8])
    down.down = None
    up = found.retrieve("q", "c", top_k=3, mode="hybrid")
    assert [h.chunk_id for h in up.hits] == ["c", "a", "b"] and up.degraded == ()


def test_rerank_reorders_fused_candidates() -> None:
    reranker = Reversing()
    store = Store([hit("a", 0.9), hit("b", 0.8)])
    found = retriever(store, Keywords([]), reranker=lambda: reranker, reranking=Reranking(depth=2))
    hits = found.retrieve("q", "c", top_k=1, mode="hybrid", rerank=True).hits
    assert [h.chunk_id for h in hits] == ["b"]
    kept = retriever(store, Keywords([]), reranker=Reversing, reranking=Reranking(2, 2.0))
    assert [h.chunk_id for h in kept.retrieve("q", "c", top_k=1, rerank=True).hits] == ["a"]
    with pytest.raises(InvalidInput, match="no reranker"):
        retriever(store, Keywords([])).retrieve("q", "c", top_k=1, rerank=True)


def test_missing_collection_and_other_model() -> None:
    with pytest.raises(NotFound):
        retriever(Store([], spec=None), Keywords([])).retrieve("q", "c", top_k=1)
    other = Store([], spec=EmbeddingSpec("other", 2, True, 128))
    with pytest.raises(Conflict, match="indexed with other"):
        retriever(other, Keywords([])).retrieve("q", "c", top_k=1, mode="dense")
    assert retriever(other, Keywords([])).retrieve("q", "c", top_k=1, mode="keyword").hits == []


def test_the_configured_reranking_is_the_settings_one() -> None:
    from docqa.core.config import Settings

    settings = Settings(rerank_depth=7, rerank_keep_weight=1.5)
    assert Reranking.configured(settings) == Reranking(depth=7, keep_weight=1.5)
    assert Reranking.configured(Settings()) == Reranking(depth=20, keep_weight=0.5)


def test_reranking_built_without_settings_is_the_shipped_reranking() -> None:
    from docqa.core.config import Settings

    assert Reranking() == Reranking.configured(Settings()) == Reranking(depth=20, keep_weight=0.5)
