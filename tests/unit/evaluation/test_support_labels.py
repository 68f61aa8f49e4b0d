"""The hand-label measurement: lines made from an ``/ask`` answer, the check re-run on them
and compared with the labels; and the documentation set chunked as uploads are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docqa.evaluation.docs_abstention import chunk_texts
from docqa.evaluation.support_labels import measure, rows_of, units_of
from docqa.ingest.chunking.chunker import Chunker
from support.fakes import FakeEmbedder

KARSK = "Mount Karsk is a volcano that last erupted in 1911."
ANSWER = "Mount Karsk last erupted in 1911 [1]. Bananas are yellow and sweet."


def asked() -> dict[str, Any]:
    """An ``/ask`` answer as the service gives it, trimmed to what the lines take."""
    return {
        "answer": ANSWER,
        "sources": [{"text": KARSK}],
        "sentences": [
            {
                "text": "Mount Karsk last erupted in 1911 [1].",
                "source": 1,
                "supported": True,
                "score": 0.9,
            },
            {
                "text": "Bananas are yellow and sweet.",
                "source": None,
                "supported": False,
                "score": 0.01,
            },
        ],
        "timings": {"total_ms": 200.0},
    }


def test_each_sentence_becomes_an_unlabelled_line_with_its_best_passage() -> None:
    first, second = rows_of("squad-dev", "When did Mount Karsk erupt?", asked())
    assert first["passage"] == KARSK and first["index"] == 0 and first["label"] is None
    assert second["passage"] is None and second["check"] == {"supported": False, "score": 0.01}
    assert first["sources"] == [KARSK] and first["total_ms"] == 200.0


def test_the_agreement_is_the_check_rerun_against_the_labels() -> None:
    embedder = FakeEmbedder(256)
    rows = rows_of("docs-set", "When did Mount Karsk erupt?", asked())
    rows[0]["label"], rows[1]["label"] = True, False
    agreeing = measure(rows, embedder.embed)
    assert agreeing["agreement"] == 1.0 and agreeing["sentences"] == 2
    assert agreeing["confusion"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 1}
    assert agreeing["by_set"] == {"docs-set": [1.0, 2]} and agreeing["answers"] == 1
    assert agreeing["score_auc"] == 1.0
    rows[1]["label"] = True  # a labeller who says the banana is supported: the check disagrees
    disagreeing = measure(rows, embedder.embed)
    assert disagreeing["agreement"] == 0.5 and disagreeing["confusion"]["fn"] == 1
    assert disagreeing["check_ms_p50"] > 0
    (wrong,) = disagreeing["disagreements"]
    assert wrong["sentence"] == "Bananas are yellow and sweet." and wrong["label"] is True
    rows[0]["label"] = None  # unlabelled lines are left out
    assert measure(rows, embedder.embed)["sentences"] == 1


def test_a_label_follows_its_sentence_however_the_answer_is_split_now() -> None:
    answer = "- Use `--rm` to remove the\ncontainer when it exits.\n- Bananas are yellow."
    # labelled when the line break made two units; now the lowercase line continues the item
    labelled = ["- Use `--rm` to remove the", "container when it exits.", "- Bananas are yellow."]
    assert units_of(answer, labelled) == [0, 0, 1]
    twice = "Mount Karsk erupted. Mount Karsk erupted."
    assert units_of(twice, ["Mount Karsk erupted.", "Mount Karsk erupted."]) == [0, 1]
    with pytest.raises(ValueError, match="not in its answer"):
        units_of(answer, ["Never said."])


def test_the_documentation_pages_are_chunked_as_uploads(tmp_path: Path) -> None:
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "run.md").write_text("# Run\n\nStart a container with docker run.\n")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "notes.bin").write_text("not a page")
    embedder = FakeEmbedder(64, max_input_tokens=64)
    texts = chunk_texts(tmp_path, Chunker(tokenizer=embedder, max_tokens=32, overlap=4))
    assert texts and all("docker run" in text or "Run" in text for text in texts)
    assert not any("not a page" in text for text in texts)
