"""``docqa eval compare``: reports side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from docqa.evaluation import metrics
from docqa.evaluation.client import EvalError
from docqa.evaluation.compare import load_reports, table


def report(collection: str, mode: str | None, rerank: bool, recall: float) -> dict[str, Any]:
    figures: dict[str, float] = {f"recall@{k}": recall for k in metrics.RECALL_KS}
    figures |= {"mrr@10": 0.5, "ndcg@10": 0.25, "questions_per_s": 12.0}
    settings = {"collection": collection, "mode": mode, "rerank": rerank, "questions": 10}
    return {"evaluation": "retrieval", "settings": settings, "figures": figures}


def write(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


def test_table_has_one_column_per_report(tmp_path: Path) -> None:
    paths = [
        write(tmp_path, "a.json", report("squad", "dense", False, 0.625)),
        write(tmp_path, "b.json", report("squad-v2", None, True, 0.9)),
    ]
    text = table(load_reports(paths))
    lines = text.splitlines()
    assert lines[0].split() == ["a", "b"]
    assert lines[1].split() == ["collection", "squad", "squad-v2"]
    assert lines[2].split() == ["mode", "dense", "default", "+", "rerank"]
    assert lines[3].split() == ["R@1", "62.5", "90.0"]
    assert lines[-1].split() == ["questions/s", "12.0", "12.0"]
    markdown = table(load_reports(paths), markdown=True).splitlines()
    assert markdown[0] == "|  | a | b |"
    assert markdown[3] == "| mode | dense | default + rerank |"
    assert markdown[4] == "| R@1 | 62.5 | 90.0 |"


def test_refuses_reports_that_do_not_compare(tmp_path: Path) -> None:
    other = report("squad", None, False, 0.5) | {"evaluation": "answers"}
    with pytest.raises(EvalError, match="not a"):
        load_reports([write(tmp_path, "x.json", other)])
    fewer = report("squad", None, False, 0.5)
    fewer["settings"]["questions"] = 5
    paths = [
        write(tmp_path, "a.json", report("s", None, False, 0.5)),
        write(tmp_path, "b.json", fewer),
    ]
    with pytest.raises(EvalError, match="different questions"):
        load_reports(paths)
