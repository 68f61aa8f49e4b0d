"""Measure what the support check adds to ``/ask``: each labelled question asked once, streamed,
timing the answer's end without the check and with it in the same request.

``python -m docqa.evaluation.support_cost docs/eval/support-labels.jsonl --base-url URL``

The streamed ``/ask`` sends the answer's last ``token`` event as soon as generation ends, then
checks the answer (``support.check``) and sends the ``sources`` event that carries it. So one
request gives both times, under the same load: *check off* is the last token's arrival (what
a service without the check would answer at, less the few milliseconds of building the final
event), *check on* the ``sources`` event's. The questions are those of the label file, in its
order, against the collections ``support_labels collect`` left (``--rounds`` asks them all
again that many times). Reported: the p50 of each and how much slower the check makes the p50
(``slower_with_check``), with the p50 and p90 of the check's own share per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from docqa.evaluation.client import client
from docqa.evaluation.support_labels import COLLECTIONS, MAX_TOKENS


@dataclass(frozen=True)
class Timed:
    off_ms: float  # the last token event: the answer without the check
    on_ms: float  # the sources event: the answer checked
    sentences: int


def events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event name, data) of each server-sent event in ``lines``."""
    name, data = "", ""
    for line in lines:
        if line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data = line[len("data:") :].strip()
        elif not line and name:
            yield name, data
            name, data = "", ""
    if name:
        yield name, data


def timed(api: httpx.Client, collection: str, question: str, retrieval: bool = True) -> Timed:
    """One streamed ``/ask``: when its last token came and when its checked answer did
    (``retrieval`` false: the model alone, nothing to check: the gap without any check)."""
    body: dict[str, Any] = {
        "question": question,
        "collection": collection,
        "max_tokens": MAX_TOKENS,
        "answer_mode": "generate",
        "top_k": 3,
        "stream": True,
        "use_retrieval": retrieval,
    }
    started = time.perf_counter()
    last_token = done = None
    sentences = 0
    with api.stream("POST", "/ask", json=body) as response:
        response.raise_for_status()
        for name, data in events(response.iter_lines()):
            now = (time.perf_counter() - started) * 1000
            if name == "token":
                last_token = now
            elif name == "sources":
                done = now
                sentences = len(json.loads(data).get("sentences") or [])
            elif name == "error":
                raise RuntimeError(f"/ask failed: {data}")
    if done is None:
        raise RuntimeError("/ask's stream ended without its sources event")
    return Timed(done if last_token is None else last_token, done, sentences)


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


def run(
    base_url: str, rows: Iterable[dict[str, Any]], rounds: int, control: bool = False
) -> dict[str, Any]:
    """``summary`` of the questions asked; with ``control``, each is also asked without
    retrieval right after (nothing checked), and the p50 of that gap between the last token
    and the final event is reported beside: what the service takes there with no check."""
    questions = list(dict.fromkeys((row["set"], row["question"]) for row in rows))
    times: list[Timed] = []
    gaps: list[float] = []
    with client(base_url) as api:
        name, question = questions[0]
        timed(api, COLLECTIONS[name], question)  # warm: loads nothing into the figures
        for _ in range(rounds):
            for name, question in questions:
                times.append(timed(api, COLLECTIONS[name], question))
                if control:
                    alone = timed(api, COLLECTIONS[name], question, retrieval=False)
                    gaps.append(alone.on_ms - alone.off_ms)
    result = summary(times)
    if gaps:
        result["gap_ms_p50_without_check"] = round(statistics.median(gaps), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--control", action="store_true", help="also ask without retrieval")
    args = parser.parse_args()
    lines = args.labels.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    print(json.dumps(run(args.base_url, rows, args.rounds, args.control), indent=2))


if __name__ == "__main__":
    main()
