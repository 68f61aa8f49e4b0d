"""The evaluation's pure parts: SQuAD loading and the metrics (no service needed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from docqa.evaluation import metrics
from docqa.evaluation.client import ordered_map
from docqa.training.squad import SquadFormatError, load, paragraph_id, parse

TINY = {
    "version": "1.1",
    "data": [
        {
            "title": "Rivers",
            "paragraphs": [
                {
                    "context": "The Nile flows north into the Mediterranean Sea.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Where does the Nile flow?",
                            "answers": [
                                {"text": "the Mediterranean Sea", "answer_start": 24},
                                {"text": "Mediterranean", "answer_start": 28},
                            ],
                        },
                        {"id": "q2", "question": "Which way does it flow?", "answers": []},
                    ],
                },
                {"context": "The Amazon carries the most water.", "qas": []},
            ],
        },
        {
            "title": "Repeats",
            "paragraphs": [
                {
                    "context": "The Nile flows north into the Mediterranean Sea.",
                    "qas": [{"id": "q3", "question": "Which sea?", "answers": [{"text": "x"}]}],
                }
            ],
        },
    ],
}


def test_unique_paragraphs_keep_their_questions(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    corpus = load(path)
    nile = paragraph_id("The Nile flows north into the Mediterranean Sea.")
    assert corpus.paragraphs[0].id == nile
    assert len(corpus.paragraphs) == 2  # the repeated paragraph is one document
    assert corpus.paragraphs[0].question_ids == ["q1", "q2", "q3"]
    assert corpus.paragraphs[0].title == "Rivers"
    assert [q.id for q in corpus.questions] == ["q1", "q2", "q3"]
    assert {q.paragraph_id for q in corpus.questions} == {nile}
    assert corpus.questions[0].answers == ("the Mediterranean Sea", "Mediterranean")
    assert corpus.paragraphs[0].as_document()["metadata"] == {"article": "Rivers"}


def test_ids_and_collection_name_are_deterministic() -> None:
    first, second = parse(TINY), parse(json.loads(json.dumps(TINY)))
    assert [p.id for p in first.paragraphs] == [p.id for p in second.paragraphs]
    assert first.default_collection == second.default_collection
    assert first.default_collection.startswith("squad-") and len(first.default_collection) == 18
    assert paragraph_id("a").startswith("p-") and len(paragraph_id("a")) == 18
    other = json.loads(json.dumps(TINY))
    other["data"][0]["paragraphs"][1]["context"] = "Something else."
    assert parse(other).default_collection != first.default_collection


def test_an_articles_page_name_becomes_a_title_with_spaces() -> None:
    raw = json.loads(json.dumps(TINY))
    raw["data"][0]["title"] = "Super_Bowl_50"
    corpus = parse(raw)
    assert corpus.paragraphs[0].title == "Super Bowl 50"
    document = corpus.paragraphs[0].as_document()
    assert document["title"] == "Super Bowl 50"
    assert document["metadata"] == {"article": "Super_Bowl_50"}  # as the file spells it
    assert corpus.default_collection != parse(TINY).default_collection


@pytest.mark.parametrize(
    "raw",
    [[], {"data": {}}, {"data": [{"title": "x"}]}, {"data": [{"paragraphs": [{"qas": []}]}]}],
)
def test_files_of_another_shape_are_refused(raw: object) -> None:
    with pytest.raises(SquadFormatError):
        parse(raw)


def test_rank_counts_each_document_once() -> None:
    assert metrics.rank_of("b", ["a", "a", "b"]) == 2
    assert metrics.rank_of("z", ["a", "b"]) is None


def test_ranking_metrics() -> None:
    ranks = [1, 2, 11, None]
    assert metrics.recall_at(ranks, 1) == 0.25
    assert metrics.recall_at(ranks, 10) == 0.5
    assert metrics.recall_at(ranks, 100) == 0.75
    assert metrics.mrr_at(ranks, 10) == pytest.approx((1 + 0.5) / 4)
    assert metrics.ndcg_at(ranks, 10) == pytest.approx((1 + 1 / math.log2(3)) / 4)
    figures = metrics.retrieval_figures(ranks)
    assert set(figures) == {f"recall@{k}" for k in metrics.RECALL_KS} | {"mrr@10", "ndcg@10"}
    assert metrics.retrieval_figures([]) == dict.fromkeys(figures, 0.0)


def test_squad_normalisation_as_the_official_script() -> None:
    assert metrics.normalize_answer("The  Cat, sat!") == "cat sat"
    assert metrics.normalize_answer("an apple a day") == "apple day"
    assert metrics.normalize_answer("theatre") == "theatre"  # only whole-word articles


def test_exact_match_and_f1() -> None:
    assert metrics.exact_match("the Mediterranean sea.", "Mediterranean Sea") == 1.0
    assert metrics.f1("Mediterranean", "the Mediterranean Sea") == pytest.approx(2 / 3)
    assert metrics.f1("Atlantic", "Mediterranean Sea") == 0.0
    assert metrics.best_em_f1("Mediterranean", ["the Mediterranean Sea", "Mediterranean"]) == (
        1.0,
        1.0,
    )
    with pytest.raises(ValueError):
        metrics.best_em_f1("x", [])


def test_citations_are_not_answer_text() -> None:
    assert metrics.clean_answer(" Denver Broncos [1][2]. ") == "Denver Broncos."
    figures = metrics.answer_figures([(1.0, 1.0), (0.0, 0.5)])
    assert figures == {"n": 2, "exact_match": 0.5, "f1": 0.75}


def test_ordered_map_keeps_order() -> None:
    assert ordered_map(
        lambda n: n * n, list(range(50)), concurrency=4, desc="", progress=False
    ) == [n * n for n in range(50)]
