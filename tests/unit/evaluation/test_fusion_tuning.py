"""``python -m docqa.evaluation.fusion_tuning`` on a tiny SQuAD file: the sample it takes,
its figures, and a whole run with a two-step reranker, whose training questions are left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from docqa.evaluation.fusion_tuning import figures, main, subset
from docqa.training.finetune import finetune_reranker
from docqa.training.loop import Bounds, Hyper
from docqa.training.provenance import trained_questions
from docqa.training.squad import load
from support.tiny_corpus import write_squad


@pytest.fixture(scope="module")
def squad_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_squad(tmp_path_factory.mktemp("squad") / "train.json")


def test_the_sample_is_the_last_articles_with_questions_spread_over_them(
    squad_file: Path,
) -> None:
    corpus = load(squad_file)
    sample = subset(corpus, articles=2, questions=2)
    assert {p.title for p in sample.paragraphs} == {"Bees", "Miscellany"}
    assert [q.question for q in sample.questions] == [
        "How do honey bees show where flowers are?",
        "How many queens does a colony have?",
    ]  # every second of the five, not the first two
    assert len(subset(corpus, articles=3, questions=100).questions) == 9


def test_figures_are_recall_and_mrr_of_the_gold_paragraph() -> None:
    ranked = [["a", "b"], ["c", "a"], [f"x{i}" for i in range(9)] + ["b"], ["y"]]
    found = figures(ranked, ["a", "a", "b", "b"])
    assert found == {"R@1": 0.25, "R@10": 0.75, "MRR@10": pytest.approx((1 + 0.5 + 0.1) / 4)}


@pytest.mark.minilm
def test_a_run_tunes_the_keep_weight_on_questions_the_reranker_never_saw(
    squad_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reranker = finetune_reranker(
        squad_file,
        tmp_path,
        hyper=Hyper(batch_size=4, learning_rate=5e-5, max_seq_length=32),  # 2 questions a step
        negatives=1,
        bounds=Bounds(max_steps=2),
        progress=False,
    )
    trained = trained_questions(reranker)
    assert len(trained) == 4

    main(["--squad", str(squad_file), "--articles", "3", "--reranker", str(reranker)])
    out = capsys.readouterr().out
    assert "left out 4 questions the reranker trained on" in out
    assert "6 paragraphs, 5 questions" in out  # 9 less the 4
    rows = [line.split()[0] for line in out.splitlines() if "R@1" in line]
    assert rows[:2] == ["dense", "keyword"]
    assert "k=60" in out and "configured" in out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("rerank keep=")] == [
        f"keep={k}" for k in (0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0, 1.5)
    ]
