"""``docqa eval``: a tiny SQuAD-shaped file evaluated through the running service."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from docqa import evaluation
from docqa.training.squad import paragraph_id

ARTICLES = {
    "Volcanoes": [
        (
            "Mount Etna on Sicily is one of the most active volcanoes in the world.",
            [("Where is Mount Etna?", "Sicily"), ("What kind of mountain is Etna?", "volcano")],
        ),
        (
            "Lava is molten rock that erupts from a volcano and cools into basalt.",
            [("What does lava cool into?", "basalt")],
        ),
        (
            "Mauna Loa in Hawaii is the largest active volcano by volume.",
            [("What is the largest active volcano by volume?", "Mauna Loa")],
        ),
    ],
    "Bees": [
        (
            "Honey bees communicate the direction of flowers with a waggle dance.",
            [("How do honey bees show where flowers are?", "waggle dance")],
        ),
        (
            "A bee colony has one queen, thousands of female workers and some male drones.",
            [
                ("How many queens does a colony have?", "one"),
                ("What are male bees called?", "drones"),
                ("Who does most of the work in a hive?", "female workers"),
            ],
        ),
    ],
}


def squad_file(path: Path) -> Path:
    data = [
        {
            "title": title,
            "paragraphs": [
                {
                    "context": context,
                    "qas": [
                        {
                            "id": f"{title}-{p}-{q}",
                            "question": question,
                            "answers": [{"text": answer, "answer_start": context.find(answer)}],
                        }
                        for q, (question, answer) in enumerate(qas)
                    ],
                }
                for p, (context, qas) in enumerate(paragraphs)
            ],
        }
        for title, paragraphs in ARTICLES.items()
    ]
    path.write_text(json.dumps({"version": "1.1", "data": data}))
    return path


def in_unit_interval(figures: dict[str, Any]) -> bool:
    return all(0.0 <= value <= 1.0 for value in figures.values())


@pytest.fixture
def squad(tmp_path: Path) -> Path:
    return squad_file(tmp_path / "tiny-squad.json")


def test_retrieval_eval_ingests_once_then_reuses(
    api: httpx.Client, base_url: str, collection: str, squad: Path, tmp_path: Path
) -> None:
    out = io.StringIO()
    first = evaluation.retrieval(
        squad, base_url=base_url, collection=collection, progress=False, out=out
    )
    assert "Recall@100" in out.getvalue() and "MRR@10" in out.getvalue()
    assert first["settings"]["questions"] == 8 and first["settings"]["paragraphs"] == 5
    assert first["ingest"]["reused"] is False and first["ingest"]["queued"] == 5
    assert len(first["ingest"]["jobs"]) == 1
    figures = first["figures"]
    ranking = {k: v for k, v in figures.items() if k.startswith(("recall@", "mrr", "ndcg"))}
    assert len(ranking) == 9 and in_unit_interval(ranking)
    assert figures["recall@100"] == 1.0  # every paragraph fits in the top 100
    assert figures["recall@1"] <= figures["recall@5"] <= figures["recall@100"]
    assert figures["questions_per_s"] > 0 and figures["ingest_s"] > 0

    listed = api.get("/documents", params={"collection": collection}).json()
    assert listed["total"] == 5
    assert all(item["metadata"]["article"] in ARTICLES for item in listed["items"])
    first_context = ARTICLES["Volcanoes"][0][0]
    assert paragraph_id(first_context) in {item["id"] for item in listed["items"]}

    # The second run, through the command line, finds the corpus and ingests nothing.
    report = tmp_path / "second.json"
    done = subprocess.run(
        [sys.executable, "-m", "docqa.cli.main", "eval", "retrieval", "--squad", str(squad),
         "--base-url", base_url, "--collection", collection, "--json", str(report),
         "--no-progress", "--questions", "4"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "re-used" in done.stdout
    second = json.loads(report.read_text())
    assert second["ingest"] == {"reused": True, "queued": 0, "jobs": [], "other_documents": 0}
    assert second["figures"]["ingest_s"] == 0.0
    assert second["settings"]["questions"] == 4 and second["settings"]["base_url"] == base_url
    assert second["figures"]["recall@100"] == 1.0


def test_answers_eval_reports_em_and_f1(base_url: str, collection: str, squad: Path) -> None:
    out = io.StringIO()
    report = evaluation.answers(
        squad, questions=2, base_url=base_url, collection=collection, progress=False, out=out
    )
    assert "given retrieved" in out.getvalue()
    figures = report["figures"]
    assert 0.0 <= figures["retrieved"] <= 1.0
    for mode in ("with_retrieval", "without_retrieval"):
        every = figures[f"{mode}/all"]
        assert every["n"] == 2
        assert 0.0 <= every["exact_match"] <= 1.0 and 0.0 <= every["f1"] <= 1.0
        given = figures[f"{mode}/given_retrieved"]
        assert given["n"] == round(2 * figures["retrieved"])
    assert [row["id"] for row in report["per_question"]] == ["Volcanoes-0-0", "Volcanoes-0-1"]
    # The support check's figures, counted from what /ask said of each answer; and an
    # extractive answer for every question.
    assert 0.0 <= figures["with_retrieval/sentences_supported"] <= 1.0
    assert 0.0 <= figures["with_retrieval/citations_corrected"] <= 1.0
    assert all(row["extract"]["answer"] for row in report["per_question"])
    sentences = sum(row["with_retrieval"]["sentences"] for row in report["per_question"])
    supported = sum(row["with_retrieval"]["supported"] for row in report["per_question"])
    assert figures["with_retrieval/sentences_supported"] == (
        supported / sentences if sentences else 0.0
    )
    assert all(isinstance(row["with_retrieval"]["answer"], str) for row in report["per_question"])


def test_a_failing_service_is_reported_clearly(squad: Path) -> None:
    with pytest.raises(evaluation.EvalError, match="is the service running"):
        evaluation.retrieval(squad, base_url="http://127.0.0.1:9", progress=False)
