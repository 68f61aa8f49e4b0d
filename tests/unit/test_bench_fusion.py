"""``python -m bench.fusion`` on a tiny SQuAD file: the sample it takes, its figures, and a
whole run with a two-step reranker, whose training questions are left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.fusion import figures, main, subset

from docqa.evaluation.squad import load
from docqa.training.finetune import finetune_reranker
from docqa.training.loop import Bounds, Hyper
from docqa.training.provenance import trained_questions

ARTICLES = {
    "Etna": {
        "Mount Etna on Sicily is one of the most active volcanoes in the world.": [
            "Where is Mount Etna?",
            "Which volcano is among the most active?",
        ],
        "Lava is molten rock that erupts from a volcano and cools into basalt.": [
            "What does lava cool into?",
            "What is lava?",
        ],
    },
    "Bees": {
        "Honey bees communicate the direction of flowers with a waggle dance.": [
            "How do honey bees show where flowers are?",
        ],
        "A bee colony has one queen, thousands of female workers and some male drones.": [
            "What are male bees called?",
            "How many queens does a colony have?",
        ],
    },
    "Rivers": {
        "The Danube flows through ten countries before it reaches the Black Sea.": [
            "Where does the Danube end?",
            "How many countries does the Danube cross?",
        ],
        "The Nile is often called the longest river on Earth.": [
            "Which river is the longest?",
        ],
    },
}


@pytest.fixture(scope="module")
def squad_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = [
        {
            "title": title,
            "paragraphs": [
                {
                    "context": text,
                    "qas": [
                        {"id": f"{title}-{i}-{j}", "question": q, "answers": []}
                        for j, q in enumerate(questions)
                    ],
                }
                for i, (text, questions) in enumerate(paragraphs.items())
            ],
        }
        for title, paragraphs in ARTICLES.items()
    ]
    path = tmp_path_factory.mktemp("squad") / "train.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def test_the_sample_is_the_last_articles_with_questions_spread_over_them(
    squad_file: Path,
) -> None:
    corpus = load(squad_file)
    sample = subset(corpus, articles=2, questions=3)
    assert {p.title for p in sample.paragraphs} == {"Bees", "Rivers"}
    assert [q.question for q in sample.questions] == [
        "How do honey bees show where flowers are?",
        "How many queens does a colony have?",
        "How many countries does the Danube cross?",
    ]  # every second of the six, not the first three
    assert len(subset(corpus, articles=3, questions=100).questions) == 10


def test_figures_are_recall_and_mrr_of_the_gold_paragraph() -> None:
    ranked = [["a", "b"], ["c", "a"], [f"x{i}" for i in range(9)] + ["b"], ["y"]]
    found = figures(ranked, ["a", "a", "b", "b"])
    assert found == {"R@1": 0.25, "R@10": 0.75, "MRR@10": pytest.approx((1 + 0.5 + 0.1) / 4)}


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
    assert "6 paragraphs, 6 questions" in out  # 10 less the 4
    rows = [line.split()[0] for line in out.splitlines() if "R@1" in line]
    assert rows[:2] == ["dense", "keyword"]
    assert "k=60" in out and "configured" in out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("rerank keep=")] == [
        f"keep={k}" for k in (0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0, 1.5)
    ]
