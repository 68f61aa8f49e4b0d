"""Measure what the support check adds to ``/ask``: each labelled question asked once, the
answer's time with the check and without it read from the same request.

``python -m docqa.evaluation.support_cost docs/eval/support-labels.jsonl --base-url URL``

``/ask`` reports its ``timings``: ``check_ms`` is what checking the answer took once the
generator had finished (the sentences completed earlier are checked while the model writes
the rest: ``answer.prefetch``), ``total_ms`` the whole request. So one request gives both
times, under the same load: *check on* is ``total_ms``, *check off* ``total_ms - check_ms``
(what a service without the check would answer at; checking ahead costs the generator
nothing it would not show in ``total_ms``). The questions are those of the label file, in its
order, against the collections ``support_labels collect`` left (``--rounds`` asks them all
again that many times; a repeated question finds its prompt in llama.cpp's cache, so the
first round is the one like a user's). Reported: the p50 of each and how much slower the
check makes the p50 (``slower_with_check``), with the p50 and p90 of the check's own share
per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from docqa.evaluation.client import client
from docqa.evaluation.support_labels import COLLECTIONS, MAX_TOKENS


@dataclass(frozen=True)
class Timed:
    off_ms: float  # the answer without the check: total_ms less check_ms
    on_ms: float  # the answer checked: total_ms
    sentences: int


def timed(api: httpx.Client, collection: str, question: str) -> Timed:
    """One ``/ask`` (generated, as the labels' answers were) and its reported timings."""
    body: dict[str, Any] = {
        "question": question,
        "collection": collection,
        "max_tokens": MAX_TOKENS,
        "answer_mode": "generate",
        "top_k": 3,
    }
    response = api.post("/ask", json=body)
    response.raise_for_status()
    answer = response.json()
    timings = answer["timings"]
    total = float(timings["total_ms"])
    return Timed(total - float(timings["check_ms"]), total, len(answer.get("sentences") or []))


def summary(times: Sequence[Timed]) -> dict[str, Any]:
    """p50 with the check off and on, and how much slower it makes ``/ask``'s p50."""
    checked = [t for t in times if t.sentences]  # refused or no text: nothing was checked
    off = statistics.median(t.off_ms for t in checked)
    on = statistics.median(t.on_ms for t in checked)
    shares = sorted((t.on_ms - t.off_ms) / t.off_ms for t in checked)
    return {
        "answers": len(checked),
        "ask_ms_p50_check_off": round(off, 1),
        "ask_ms_p50_check_on": round(on, 1),
        "slower_with_check": round(on / off - 1, 4),
        "check_ms_p50": round(statistics.median(t.on_ms - t.off_ms for t in checked), 1),
        "check_share_p50": round(statistics.median(shares), 4),
        "check_share_p90": round(shares[int(0.9 * (len(shares) - 1))], 4),
    }


def run(base_url: str, rows: Iterable[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """``summary`` of the label file's questions, each asked ``rounds`` times."""
    questions = list(dict.fromkeys((row["set"], row["question"]) for row in rows))
    times: list[Timed] = []
    with client(base_url) as api:
        for _ in range(rounds):
            for name, question in questions:
                times.append(timed(api, COLLECTIONS[name], question))
    return summary(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    lines = args.labels.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    print(json.dumps(run(args.base_url, rows, args.rounds), indent=2))


if __name__ == "__main__":
    main()
