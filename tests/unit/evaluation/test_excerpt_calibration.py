"""The extractive ranking's calibration: it fits from candidates labelled by whether they hold
a gold answer, and counts one- and two-sentence answers that hold one."""

from __future__ import annotations

from pathlib import Path

from docqa.answer.sentence_ranking import FEATURES, Ranked, Ranking
from docqa.evaluation.excerpt_calibration import figures, fit_ranking, ranked_rows
from docqa.evaluation.memory_index import CachedEmbedder, InMemoryIndex, Question
from support.fakes import FakeEmbedder

ZERO = tuple(0.0 for _ in FEATURES)
RANK = FEATURES.index("rank")


def row(text: str, rank: float) -> Ranked:
    features = tuple(rank if n == RANK else 0.0 for n in range(len(FEATURES)))
    return Ranked(1, 0, len(text), text, "sentence", features)


def test_the_ranking_fits_the_feature_that_marks_gold_answers() -> None:
    rows = [
        [row(f"Filler {n}.", 0.2), row(f"The answer is gold{n}.", 1.0), row("Other.", 0.5)]
        for n in range(30)
    ]
    ranking = fit_ranking(rows, [[f"gold{n}"] for n in range(30)])
    assert ranking.weights[RANK] > 0
    assert sum(abs(w) for n, w in enumerate(ranking.weights) if n != RANK) == 0.0


def test_figures_count_first_sentences_and_pairs_that_hold_a_gold_answer() -> None:
    by_rank = Ranking(0.0, tuple(1.0 if n == RANK else 0.0 for n in range(len(FEATURES))))
    rows = [
        [row("Holds gold.", 1.0), row("No.", 0.5)],  # first sentence holds it
        [row("No.", 1.0), row("Holds gold.", 0.5)],  # only the second does
        [row("No.", 1.0), row("Nor this.", 0.5), row("Holds gold.", 0.1)],  # neither
    ]
    questions = [Question("q?", ["gold"], 0) for _ in rows]
    result = figures(rows, questions, by_rank)
    assert result == {"questions": 3, "one_sentence": 1 / 3, "two_sentences": 2 / 3}


def test_ranked_rows_features_each_question_and_tells_where_its_paragraph_is(
    tmp_path: Path,
) -> None:
    embedder = CachedEmbedder(FakeEmbedder(256), tmp_path / "cache.pkl")
    paragraphs = ["Owls hunt at night. They fly.", "Mount Karsk erupted in 1911. It is tall."]
    index = InMemoryIndex(paragraphs, embedder)
    questions = [Question("When did Mount Karsk erupt?", ["1911"], 1)]
    rows, found = ranked_rows(questions, index, embedder)
    assert found == [True]
    assert {r.text for r in rows[0]} >= {"Mount Karsk erupted in 1911.", "They fly."}
    assert all(len(r.features) == len(FEATURES) and r.features != ZERO for r in rows[0])
