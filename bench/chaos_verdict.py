"""The chaos soak's end-state checks (``bench/chaos.py``), once the faults and the load are
over: the queue drained, ``docqa check`` before any repair, and every document in a state the
ledger (``bench/chaos_load``) allows."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx

from bench.chaos_load import Ledger, phrase
from docqa.core.waiting import wait_until
from docqa.ingest.indexing import DELETE_CUT_OFF
from docqa.stack.local import Stack

COLLECTION = "chaos"
DRAIN_S = 900


def drain(stack: Stack) -> dict[str, int]:
    """Wait until no job is queued, scheduled or started (or ``DRAIN_S``); what is left."""
    from docqa import wiring
    from docqa.core.config import Settings

    settings = Settings(redis_url=stack.env["DOCQA_REDIS_URL"])
    redis = wiring.rq_client(settings)
    queue = wiring.ingest_queue(settings, redis)
    busy = ("queued", "scheduled", "started", "deferred")

    def left() -> dict[str, int]:
        try:
            counts = queue.counts()
        except Exception:
            return {"unreachable": 1}
        return {state: counts.get(state, 0) for state in busy}

    try:
        wait_until(lambda: not any(left().values()), DRAIN_S, "the queue to drain", interval=1)
    except TimeoutError:
        pass
    finally:
        found = left()
        redis.close()
    return found


def docqa_check(stack: Stack) -> dict[str, Any]:
    """``docqa check --json`` over every collection, before any repair: its summary."""
    done = subprocess.run(
        [sys.executable, "-m", "docqa.cli.main", "check", "--json", "--no-progress"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if not lines or "summary" not in lines[-1]:
        return {"error": done.stderr[-2000:], "differences": None}
    summary: dict[str, Any] = lines[-1]["summary"]
    summary["examples"] = [line["difference"] for line in lines[:-1][:20]]
    return summary


def verify(client: httpx.Client, ledger: Ledger) -> dict[str, Any]:
    """Each document in a state the ledger allows: deleted (404, its phrases find nothing), or
    indexed and found by the phrase of an allowed version and not by the version before it.
    A deletion cut off by an outage leaves a failed record saying so: allowed when a deletion
    was not acknowledged (``cut_off``)."""
    lost: list[dict[str, Any]] = []
    deleted_found: list[dict[str, Any]] = []
    stale: list[str] = []
    counts = {"present": 0, "deleted": 0, "uncertain": 0, "cut_off": 0}
    for document, entry in sorted(ledger.entries.items()):
        doc_id = f"doc-{document}"
        states = entry.states or {(entry.version, entry.deleted)}
        versions = sorted({version for version, _ in states if version})
        counts["uncertain"] += not entry.certain
        record = client.get(f"/documents/{doc_id}", params={"collection": COLLECTION})
        found = [v for v in versions if found_by(client, phrase(document, v), doc_id)]
        if record.status_code == 404:
            counts["deleted"] += 1
            absent = any(deleted or not version for version, deleted in states)
            if not absent or found:  # version 0: a first post never acknowledged
                (deleted_found if found else lost).append({"id": doc_id, "found": found})
            continue
        state = record.json().get("status") if record.status_code == 200 else None
        error = record.json().get("error") if record.status_code == 200 else None
        if state == "failed" and error == DELETE_CUT_OFF and any(d for _, d in states):
            counts["cut_off"] += 1
            continue
        counts["present"] += 1
        if state != "indexed" or len(found) != 1:
            lost.append({"id": doc_id, "status": state, "found": found, "states": sorted(states)})
        elif found[0] > 1 and found_by(client, phrase(document, found[0] - 1), doc_id):
            stale.append(doc_id)
    return {
        **counts,
        "lost": len(lost),
        "lost_examples": lost[:20],
        "stale": len(stale),
        "deleted_found": len(deleted_found),
    }


def found_by(client: httpx.Client, word: str, doc_id: str) -> bool:
    body = {"collection": COLLECTION, "question": word, "mode": "keyword", "top_k": 5}
    hits = client.post("/search", json=body).raise_for_status().json()["hits"]
    return any(hit["document_id"] == doc_id for hit in hits)
