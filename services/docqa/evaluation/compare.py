"""``docqa eval compare``: retrieval reports (``--json`` files) side by side, one column each.

Columns are named after the files (name them for what they measured); the first rows say each
report's collection and mode. ``--markdown`` prints the table as Markdown, for docs/.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docqa.evaluation import metrics
from docqa.evaluation.client import EvalError

ROWS: list[tuple[str, str, str]] = [
    *((f"R@{k}", f"recall@{k}", "percent") for k in metrics.RECALL_KS),
    ("MRR@10", "mrr@10", "ratio"),
    ("nDCG@10", "ndcg@10", "ratio"),
    ("questions/s", "questions_per_s", "rate"),
]


def mode(report: dict[str, Any]) -> str:
    settings = report["settings"]
    return (settings.get("mode") or "default") + (" + rerank" if settings.get("rerank") else "")


def load_reports(paths: Sequence[Path]) -> list[dict[str, Any]]:
    reports = []
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        if report.get("evaluation") != "retrieval":
            raise EvalError(f"{path} is not a `docqa eval retrieval --json` report")
        reports.append(report | {"name": path.stem})
    asked = {(r["settings"]["questions"], r["settings"].get("every", 1)) for r in reports}
    if len(asked) > 1:
        raise EvalError(f"the reports asked different questions (count, every): {sorted(asked)}")
    return reports


def _cell(value: float, kind: str) -> str:
    if kind == "percent":
        return f"{100 * value:.1f}"
    return f"{value:.3f}" if kind == "ratio" else f"{value:.1f}"


def table(reports: Sequence[dict[str, Any]], *, markdown: bool = False) -> str:
    header = ["", *(report["name"] for report in reports)]
    rows = [
        ["collection", *(report["settings"]["collection"] for report in reports)],
        ["mode", *(mode(report) for report in reports)],
    ]
    rows += [
        [name, *(_cell(report["figures"][key], kind) for report in reports)]
        for name, key, kind in ROWS
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(width) if i else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    )
