"""Choose the support rule's threshold on answer sentences labelled by hand: SQuAD train's.

``python -m docqa.evaluation.support_threshold docs/eval/support-labels-train.jsonl``

The weights of ``support_rule.RULE`` are fitted on claim/passage pairs made from SQuAD train
(``support_calibration``); its threshold is the one at which ``support.check`` agrees best
with sentences the embedded model wrote to SQuAD *train* questions, labelled by hand
(``support_labels collect --squad .../train-v1.1-part.json``). Real answers are not the pairs'
statements (fragments, lead-ins, near-verbatim lines shift the scores), so the pairs' own
threshold does not carry over. Never fitted on the labels reported against
(``docs/eval/support-labels.jsonl``: SQuAD dev and the documentation set).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from docqa.answer import support, support_rule
from docqa.answer.prefetch import Vectors
from docqa.answer.support_rule import Rule
from docqa.evaluation.support_labels import verdicts


def cached(embed: support.Embed) -> support.Embed:
    """``embed`` that embeds each distinct text once (``prefetch.Vectors``)."""
    return Vectors(embed).embed


def threshold_on(
    rows: Sequence[dict[str, Any]], embed: support.Embed, rule: Rule = support_rule.RULE
) -> dict[str, Any]:
    """The threshold at which ``rule``'s check agrees best with labelled answer sentences
    (``support_labels``' lines: fit on SQuAD train's, never on those reported against); of
    the thresholds that agree best, the median. Each answer is checked at every threshold
    (which passage stands can depend on it), every text embedded once."""
    embedding = cached(embed)
    grid = [round(float(t), 2) for t in np.linspace(0.05, 0.95, 91)]
    agreement = {}
    for threshold in grid:
        found, _ = verdicts(rows, embedding, replace(rule, threshold=threshold))
        agreement[threshold] = sum(u.supported == bool(r["label"]) for r, u in found) / len(found)
    top = max(agreement.values())
    best = [t for t in grid if agreement[t] == top]
    chosen = best[len(best) // 2]
    return {
        "threshold": chosen,
        "agreement": round(top, 4),
        "sentences": len(found),
        "agreeing_best": [best[0], best[-1]],
        "at_shipped_threshold": round(agreement.get(round(rule.threshold, 2), float("nan")), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    args = parser.parse_args()
    from docqa.core.config import Settings
    from docqa.wiring import embedder

    lines = args.labels.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    print(json.dumps(threshold_on(rows, embedder(Settings()).embed), indent=2))


if __name__ == "__main__":
    main()
