"""Ranking passage sentences as answers: the features say what they claim (cues of what the
question asks for, rarity-weighted overlap, gaps to the best, neighbours in one passage), and
the fitted ranking puts the sentence that answers first."""

from __future__ import annotations

import pytest

from docqa.answer.sentence_ranking import (
    COSINE_FEATURES,
    FEATURES,
    PASSAGES,
    RANKING,
    SEMANTIC,
    TERMS,
    Ranking,
    featured,
    ranked,
    units_of,
)
from docqa.core.models import Hit
from support.fakes import FakeEmbedder

EMBED = FakeEmbedder(512).embed
PELORA = (
    "Mount Pelora is a volcano in the north of Veldra. Its first ascent was made by Anna Kross. "
    "Mount Pelora last erupted in 1742. The volcano is 3,100 metres tall."
)
HITS = [Hit("p", "pelora", PELORA, 0.9, {}, 0.7)]


def features_of(question: str, hits: list[Hit] = HITS) -> dict[str, dict[str, float]]:
    """Each sentence's features by name, keyed by its text."""
    units = units_of(hits)
    vectors = EMBED([question, *(unit.text for _, unit in units)])
    rows = featured(question, hits, units, vectors[0], vectors[1:])
    return {row.text: dict(zip(FEATURES, row.features, strict=True)) for row in rows}


def test_a_who_question_marks_sentences_naming_someone_it_does_not() -> None:
    rows = features_of("Who made the first ascent of Mount Pelora?")
    assert rows["Its first ascent was made by Anna Kross."]["name"] == 1.0
    assert rows["Mount Pelora last erupted in 1742."]["name"] == 0.0  # only names it holds
    assert rows["Mount Pelora last erupted in 1742."]["year"] == 0.0  # not asked for a date


def test_a_when_question_marks_dates_and_a_how_question_numbers() -> None:
    when = features_of("When did Mount Pelora last erupt?")
    assert when["Mount Pelora last erupted in 1742."]["year"] == 1.0
    assert when["Mount Pelora last erupted in 1742."]["number"] == 1.0
    assert when["Its first ascent was made by Anna Kross."]["year"] == 0.0
    tall = features_of("How tall is Mount Pelora?")
    assert tall["The volcano is 3,100 metres tall."]["number"] == 1.0
    assert tall["The volcano is 3,100 metres tall."]["year"] == 0.0


def test_a_term_every_sentence_holds_weighs_less_than_a_rare_one() -> None:
    rows = features_of("Which volcano in Veldra is Pelora?")
    north = rows["Mount Pelora is a volcano in the north of Veldra."]
    erupted = rows["Mount Pelora last erupted in 1742."]
    # Both hold "pelora"; only the first holds "volcano" and "veldra" (rarer).
    assert north["weighted"] > erupted["weighted"] > 0.0
    assert north["weighted_gap"] == 0.0 and erupted["weighted_gap"] < 0.0
    assert max(row["cosine_gap"] for row in rows.values()) == 0.0
    assert max(row["overlap_gap"] for row in rows.values()) == 0.0


def test_a_neighbour_counts_only_within_its_own_passage() -> None:
    hits = [
        Hit("a", "a", "Owls hunt at night. Plums are sweet.", 0.9, {}),
        Hit("b", "b", "Mount Karsk erupted in 1911.", 0.8, {}),
    ]
    rows = features_of("When did Mount Karsk erupt?", hits)
    assert rows["Plums are sweet."]["neighbour"] == 0.0  # Karsk's passage is another one
    assert rows["Mount Karsk erupted in 1911."]["rank"] == 0.5
    assert rows["Mount Karsk erupted in 1911."]["fused"] == 0.8


@pytest.mark.parametrize("ranking", [TERMS, SEMANTIC], ids=["terms", "semantic"])
def test_the_fitted_rankings_put_the_answering_sentence_first(ranking: Ranking) -> None:
    best = ranked("When did Mount Pelora last erupt?", HITS, EMBED, ranking)
    assert best[0].text == "Mount Pelora last erupted in 1742."
    who = ranked("Who made the first ascent of Mount Pelora?", HITS, EMBED, ranking)
    assert who[0].text == "Its first ascent was made by Anna Kross."
    assert [row.score for row in best] == sorted((row.score for row in best), reverse=True)
    assert len(ranking.weights) == len(FEATURES)


def test_the_default_ranking_calls_no_model_and_the_semantic_one_embeds_once() -> None:
    embedder = FakeEmbedder(512)
    assert RANKING is TERMS and not TERMS.embeds and SEMANTIC.embeds
    assert all(TERMS.weights[FEATURES.index(name)] == 0.0 for name in COSINE_FEATURES)
    assert ranked("When did Mount Pelora last erupt?", HITS, None)[0].text.endswith("1742.")
    ranked("When did Mount Pelora last erupt?", HITS, embedder.embed)
    assert embedder.calls == []
    ranked("When did Mount Pelora last erupt?", HITS, embedder.embed, SEMANTIC)
    assert embedder.calls == [1 + len(units_of(HITS))]
    with pytest.raises(ValueError, match="needs embed"):
        ranked("When did Mount Pelora last erupt?", HITS, None, SEMANTIC)


def test_without_vectors_the_cosine_features_are_zero() -> None:
    units = units_of(HITS)
    rows = featured("When did Mount Pelora last erupt?", HITS, units, None, None)
    for name in COSINE_FEATURES:
        assert {row.features[FEATURES.index(name)] for row in rows} == {0.0}


def test_only_the_top_passages_are_ranked_and_a_given_ranking_is_used() -> None:
    hits = [Hit(str(n), str(n), f"Filler sentence number {n}.", 1.0, {}) for n in range(5)]
    rows = ranked("Which filler?", hits, EMBED)
    assert {row.source for row in rows} == set(range(1, PASSAGES + 1))
    longest = Ranking(0.0, tuple(1.0 if name == "rank" else 0.0 for name in FEATURES))
    assert ranked("Which filler?", hits, EMBED, longest)[0].source == 1


def test_no_passages_nothing_ranked() -> None:
    assert ranked("Anything?", [], EMBED) == []
