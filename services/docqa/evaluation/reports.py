"""A report's two outputs: the table ``docqa eval`` prints (``print_retrieval``,
``print_answers``, headed by the settings) and, when asked, the JSON file (``write``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from docqa.evaluation import docset as docsets
from docqa.evaluation import metrics


def _header(report: dict[str, Any]) -> list[str]:
    s = report["settings"]
    source = "re-used" if report["ingest"]["reused"] else f"ingested {report['ingest']['queued']}"
    return [
        f"docqa eval {report['evaluation']}: {s['file']}",
        f"  {s['questions']} of {s['questions_in_file']} questions, {s['paragraphs']} paragraphs",
        f"  collection {s['collection']} ({source}) at {s['base_url']}",
        *(
            [f"  mode {s.get('mode') or 'default'}" + (" + rerank" if s.get("rerank") else "")]
            if report["evaluation"] == "retrieval"
            else []
        ),
    ]


def print_retrieval(report: dict[str, Any], out: TextIO) -> None:
    f = report["figures"]
    lines = _header(report)
    lines += [
        f"  {'Recall@' + str(k):<14}{100 * f[f'recall@{k}']:6.1f} %" for k in metrics.RECALL_KS
    ]
    lines += [
        *([f"  {label:<14}{f[key]:8.3f}" for key, label in docsets.PRINTED if key in f]),
        f"  {'MRR@10':<14}{f['mrr@10']:8.3f}",
        f"  {'nDCG@10':<14}{f['ndcg@10']:8.3f}",
        f"  {'questions/s':<14}{f['questions_per_s']:8.1f}",
        f"  {'ingest time':<14}{f['ingest_s']:8.1f} s"
        + (" (re-used)" if report["ingest"]["reused"] else ""),
    ]
    print("\n".join(lines), file=out)


def print_answers(report: dict[str, Any], out: TextIO) -> None:
    f = report["figures"]
    lines = _header(report)
    lines.append(f"  paragraph among the answer's sources: {100 * f['retrieved']:.1f} %")
    lines.append(f"  {'':<34}{'n':>6}{'EM':>8}{'F1':>8}")
    for key, label in (
        ("with_retrieval/all", "with retrieval"),
        ("without_retrieval/all", "without retrieval"),
        ("with_retrieval/given_retrieved", "with retrieval, given retrieved"),
        ("without_retrieval/given_retrieved", "without retrieval, given retrieved"),
    ):
        if key not in f:
            continue
        row = f[key]
        lines.append(
            f"  {label:<34}{row['n']:>6}{100 * row['exact_match']:7.1f}%{100 * row['f1']:7.1f}%"
        )
    for mode, label in (("with_retrieval", "with retrieval"), ("without_retrieval", "without")):
        if f"{mode}/loops" in f:
            lines.append(
                f"  {'answers that loop, ' + label:<34}{100 * f[mode + '/loops']:13.1f}%"
                f"   cut: {100 * f[mode + '/cut']:.1f}%"
            )
    if "with_retrieval/sentences_supported" in f:
        lines.append(
            f"  {'generated sentences supported':<34}"
            f"{100 * f['with_retrieval/sentences_supported']:13.1f}%"
            f"   citations corrected: {100 * f['with_retrieval/citations_corrected']:.1f}%"
        )
    if "extract/contains_gold" in f:
        row = f["extract/all"]
        lines.append(
            f"  {'extractive, holds a gold answer':<34}{100 * f['extract/contains_gold']:13.1f}%"
            f"   EM {100 * row['exact_match']:.1f}%  F1 {100 * row['f1']:.1f}%"
        )
        if "extract/first_sentence_contains_gold" in f:
            first = f["extract/first_sentence_contains_gold"]
            lines.append(f"  {'  its first sentence alone':<34}{100 * first:13.1f}%")
    lines.append(f"  {'time':<34}{f['seconds']:>6.1f} s")
    print("\n".join(lines), file=out)


def write(report: dict[str, Any], path: Path | None, out: TextIO) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  written to {path}", file=out)
