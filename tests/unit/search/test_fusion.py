"""Fusion: reciprocal rank and convex fusion arithmetic, the normalisations, and the configured
fusion."""

from __future__ import annotations

import pytest

from docqa.core.models import Hit
from docqa.search.fusion import Fusion, blend, fuse, normalised


def hit(chunk_id: str, score: float = 0.0, similarity: float | None = None) -> Hit:
    return Hit(chunk_id, chunk_id.split(":")[0], f"text {chunk_id}", score, {}, similarity)


def test_fuse_sums_weighted_reciprocal_ranks() -> None:
    dense = [hit("a"), hit("b"), hit("c")]
    keyword = [hit("c"), hit("d")]
    fused = fuse([(1.0, dense), (2.0, keyword)], k=10)
    scores = {h.chunk_id: h.score for h in fused}
    assert scores == pytest.approx({"a": 1 / 11, "b": 1 / 12, "c": 1 / 13 + 2 / 11, "d": 2 / 12})
    assert [h.chunk_id for h in fused] == ["c", "d", "a", "b"]


def test_fuse_keeps_first_seen_fields_and_order_on_ties() -> None:
    fused = fuse([(1.0, [hit("a", similarity=0.9)]), (1.0, [hit("b"), hit("a")])], k=60)
    assert [h.chunk_id for h in fused] == ["a", "b"]
    assert fused[0].similarity == 0.9  # from the dense list
    tie = fuse([(1.0, [hit("x")]), (1.0, [hit("y")])], k=60)
    assert [h.chunk_id for h in tie] == ["x", "y"]
    assert fuse([(0.0, [hit("z")])], k=60)[0].score == 0.0


def test_normalised_puts_a_list_on_its_scale() -> None:
    assert normalised([4.0, 2.0, 1.0], "none") == [4.0, 2.0, 1.0]
    assert normalised([4.0, 2.0, 1.0], "max") == [1.0, 0.5, 0.25]
    assert normalised([4.0, 2.0, 1.0], "minmax") == pytest.approx([1.0, 1 / 3, 0.0])
    spread = 3 * (2 / 3) ** 0.5  # 3 population standard deviations of 3, 2, 1 (mean 2)
    assert normalised([3.0, 2.0, 1.0], "dbsf") == pytest.approx(
        [(1 + spread) / (2 * spread), 0.5, (spread - 1) / (2 * spread)]
    )
    outlier = normalised([10.0] + [0.0] * 10, "dbsf")  # 10 is beyond mean + 3 sd: clipped
    assert outlier[0] == 1.0 and 0 < outlier[1] < 0.5
    for how in ("none", "max", "minmax", "dbsf"):
        assert normalised([], how) == []


def test_normalised_equal_or_zero_scores_divide_by_nothing() -> None:
    assert normalised([2.0, 2.0], "minmax") == [1.0, 1.0]
    assert normalised([5.0], "minmax") == [1.0]
    assert normalised([2.0, 2.0], "dbsf") == [0.5, 0.5]
    assert normalised([0.0, 0.0], "max") == [0.0, 0.0]


def test_blend_is_a_convex_combination_of_normalised_scores() -> None:
    dense = [hit("a", 0.9, similarity=0.9), hit("b", 0.5, similarity=0.5)]
    keyword = [hit("b", 4.0), hit("c", 2.0)]
    fused = blend(dense, keyword, 0.4, ("none", "max"))
    scores = {h.chunk_id: h.score for h in fused}
    assert scores == pytest.approx({"a": 0.6 * 0.9, "b": 0.6 * 0.5 + 0.4, "c": 0.4 * 0.5})
    assert [h.chunk_id for h in fused] == ["b", "a", "c"]
    assert fused[0].similarity == 0.5  # b keeps its dense fields, seen in both lists
    assert fused[2].similarity is None  # c: keyword only
    minmax = blend(dense, keyword, 0.5, ("minmax", "minmax"))
    assert {h.chunk_id: h.score for h in minmax} == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.0})
    assert [h.chunk_id for h in minmax] == ["a", "b", "c"]  # a and b tie: a was seen first


def test_blend_ties_go_to_the_first_seen_dense_before_keyword() -> None:
    tie = blend([hit("x", similarity=1.0)], [hit("y", 3.0)], 0.5, ("none", "max"))
    assert [(h.chunk_id, h.score) for h in tie] == [("x", 0.5), ("y", 0.5)]
    flipped = blend([hit("y", similarity=1.0)], [hit("x", 3.0)], 0.5, ("none", "max"))
    assert [h.chunk_id for h in flipped] == ["y", "x"]


def test_blend_takes_a_dense_hits_score_when_it_has_no_similarity() -> None:
    fused = blend([hit("a", 0.8), hit("b", 0.4, similarity=0.6)], [], 0.5, ("none", "max"))
    assert [(h.chunk_id, h.score) for h in fused] == [("a", 0.4), ("b", 0.3)]


def test_blend_with_one_list_empty_keeps_the_other_ones_order() -> None:
    dense = [hit("a", similarity=0.9), hit("b", similarity=0.3)]
    keyword = [hit("c", 5.0), hit("d", 1.0)]
    assert [h.chunk_id for h in blend(dense, [], 0.7, ("none", "minmax"))] == ["a", "b"]
    only_keyword = blend([], keyword, 0.7, ("none", "minmax"))
    assert [(h.chunk_id, h.score) for h in only_keyword] == [("c", 0.7), ("d", 0.0)]
    assert blend([], [], 0.5) == []


def test_combine_fuses_by_the_configured_method() -> None:
    dense = [hit("a", similarity=0.9), hit("b", similarity=0.8)]
    keyword = [hit("b", 1.0), hit("a", 0.5)]
    rrf = Fusion(method="rrf", k=1, keyword_weight=1.5)
    assert [h.chunk_id for h in rrf.combine(dense, keyword)] == ["b", "a"]
    assert rrf.combine(dense, keyword) == fuse([(1.0, dense), (1.5, keyword)], 1)
    convex = Fusion(method="convex", keyword_share=0.05)  # cosine outweighs: a
    assert [h.chunk_id for h in convex.combine(dense, keyword)] == ["a", "b"]
    assert convex.combine(dense, keyword) == blend(dense, keyword, 0.05, ("none", "minmax"))


def test_the_configured_fusion_is_the_settings_one() -> None:
    from docqa.core.config import Settings

    settings = Settings(
        fusion="rrf",
        fusion_k=7,
        fusion_dense_weight=0.5,
        fusion_keyword_weight=2.0,
        fusion_depth=30,
        fusion_keyword_share=0.3,
    )
    assert Fusion.configured(settings) == Fusion(
        method="rrf", k=7, dense_weight=0.5, keyword_weight=2.0, depth=30, keyword_share=0.3
    )
    convex = Settings(
        fusion="convex",
        fusion_keyword_share=0.3,
        fusion_dense_normalisation="minmax",
        fusion_keyword_normalisation="dbsf",
    )
    assert Fusion.configured(convex) == Fusion(
        k=2,
        keyword_weight=1.5,
        method="convex",
        keyword_share=0.3,
        dense_normalisation="minmax",
        keyword_normalisation="dbsf",
    )
    assert (
        Fusion.configured(Settings())
        == Fusion()
        == Fusion(
            k=2,
            keyword_weight=1.5,
            method="convex",
            keyword_share=0.3,
            dense_normalisation="none",
            keyword_normalisation="minmax",
        )
    )
