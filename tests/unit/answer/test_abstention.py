"""Saying "not in your documents": the evidence measures of a question's hits, and the fitted
rule that weighs them."""

from __future__ import annotations

from docqa.answer.abstention import EVIDENCE, Evidence, measures
from docqa.answer.excerpts import candidates
from docqa.core.models import Hit
from support.fakes import FakeEmbedder

KARSK = "Mount Karsk is a volcano. Mount Karsk last erupted in 1911."
PLUMS = "Plum cake is baked for 45 minutes."


def test_the_measures_are_the_top_score_best_cosine_best_sentence_and_coverage() -> None:
    hits = [Hit("k", "k", KARSK, 0.8, {}, 0.6), Hit("p", "p", PLUMS, 0.3, {}, 0.7)]
    question = "When did Mount Karsk erupt?"
    ranked = candidates(question, hits, FakeEmbedder(512).embed)
    top_score, top_cosine, best_sentence, coverage = measures(question, hits, ranked)
    assert (top_score, top_cosine) == (0.8, 0.7)
    assert best_sentence == ranked[0].score
    assert coverage == 1.0  # mount, karsk, erupt: all in the top passages
    assert measures("Owls?", [], []) == [0.0, 0.0, 0.0, 0.0]


def test_weak_evidence_is_refused_and_strong_evidence_answered() -> None:
    assert EVIDENCE.refuses([0.35, 0.15, 0.05, 0.2])  # an unrelated question's hits
    assert not EVIDENCE.refuses([0.85, 0.7, 0.8, 1.0])  # a question its passage answers
    assert (
        EVIDENCE.missing([0.35, 0.15, 0.05, 0.2])
        > 0.9
        > 0.1
        > EVIDENCE.missing([0.85, 0.7, 0.8, 1.0])
    )


def test_the_rule_is_the_standardised_logistic_of_its_weights() -> None:
    rule = Evidence(
        weights=(0.0, -1.0, 0.0, 0.0, 0.0), mean=(0.5,) * 4, scale=(0.5,) * 4, threshold=0.5
    )
    assert rule.missing([0.5, 9, 9, 9]) == 0.5
    assert rule.refuses([0.4, 0, 0, 0]) and not rule.refuses([0.6, 0, 0, 0])
