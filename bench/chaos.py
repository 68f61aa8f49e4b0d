"""The chaos soak: ``python -m bench --only chaos --minutes M --seed S``.

A private local stack (its worker embedding through the TEI stand-in, ``bench/tei_stub``, so
the embedder can be made to fail) runs under ``docqa run``'s supervisor
(``docqa.stack.supervision``), with a producer and a reader (``bench/chaos_load``) while the
fault injector (``bench/chaos_faults``) strikes for ``M`` minutes. Then everything stopped is
continued, the load ends, the queue drains, and the end state is checked:

- ``docqa check`` (before any repair) finds no difference;
- every document whose last post was acknowledged is ``indexed`` and keyword search finds it by
  its latest version's phrase, not by the version before it; every acknowledged deletion is
  gone (404, and its phrase finds nothing). A request answered 5xx or not at all may have been
  carried out: the document may then be in either state (``bench/chaos_load``);
- no job is left queued, scheduled or started; no answer was a 500 (503s counted apart);
- each fault recovered (a write and a search succeeded after it) within 300 s.

The figures (per fault kind: count, recovery p50 and max) are printed and written to
``build/chaos.json``; the exit status is 1 when an invariant failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.chaos_faults import Injector, Probe, recovery_figures
from bench.chaos_load import Ledger, Producer, Reader, phrase
from bench.corpus import REPO
from bench.tei_stub import TeiStub
from docqa.core.waiting import wait_until
from docqa.ingest.indexing import DELETE_CUT_OFF
from docqa.stack.local import Stack
from docqa.stack.processes import free_port
from docqa.stack.supervision import CrashPolicy, Supervisor

NAME = "chaos"
COLLECTION, PROBES = "chaos", "chaos-probe"
OUT = REPO / "build" / "chaos.json"
ENV = {  # jobs cut off by a fault are retried for minutes, not given up on
    "DOCQA_JOB_RETRIES": "40",
    "DOCQA_JOB_RETRY_INTERVALS_S": "[1, 2, 4, 8]",
}
DRAIN_S = 900


def run(args: argparse.Namespace) -> int:
    minutes, seed = float(args.minutes), int(args.seed)
    data = Path(tempfile.mkdtemp(prefix="docqa-chaos-"))
    print(f"… chaos: {minutes:g} min, seed {seed}, data in {data}", file=sys.stderr)
    with TeiStub(log=data / "tei.log") as tei:
        env = {"DOCQA_EMBEDDER": "tei", "DOCQA_TEI_URL": tei.url, **ENV}
        stack = Stack(
            data_dir=data, api_port=free_port(), quiet=True, extra_env=env, generator=False
        )
        stop = threading.Event()
        said: list[str] = []
        # faults come every few seconds: the supervisor must not give up on a process for them
        supervisor = Supervisor(stack, CrashPolicy(limit=10_000), said.append)
        watcher = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
        try:
            stack.start()
            watcher.start()
            report = soak(stack, tei, minutes, seed)
        finally:
            stop.set()
            stack.stop()
    report["restarts"] = supervisor.restarts
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(render(report))
    print(f"\nwritten to {OUT}")
    return 0 if report["passed"] else 1


def soak(stack: Stack, tei: TeiStub, minutes: float, seed: int) -> dict[str, Any]:
    ledger = Ledger()
    # a short soak (CI's) strikes more often, to fit ten faults in its minutes
    injector = Injector(stack, tei, seed, gap_s=(1.0, 4.0) if minutes <= 5 else (4.0, 10.0))
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        producer = Producer(client, COLLECTION, seed, ledger)
        reader = Reader(client, COLLECTION, seed, ledger)
        producer.start()
        reader.start()
        probe = Probe(client, PROBES)
        started = time.monotonic()
        try:
            while time.monotonic() - started < minutes * 60:
                time.sleep(injector.gap())
                fault = injector.inject(injector.next_kind(), probe)
                print(f"… {fault.kind}: recovered in {fault.recovered_s} s", file=sys.stderr)
        finally:
            injector.release()
            producer.stop.set()
            reader.stop.set()
            producer.join(60)
            reader.join(60)
        soaked_s = time.monotonic() - started
        leftover = drain(stack)
        checked = docqa_check(stack)
        verified = verify(client, ledger)
    figures = recovery_figures(injector.faults)
    unrecovered = sum(1 for f in injector.faults if f.recovered_s is None)
    report: dict[str, Any] = {
        "minutes": round(soaked_s / 60, 2),
        "seed": seed,
        "faults": len(injector.faults),
        "recovery": figures,
        "documents": len(ledger.entries),
        "chunks_embedded": tei.counters()["embedded"],
        "statuses": dict(sorted(ledger.statuses.items())),
        "responses_500": ledger.failures(),
        "responses_503": ledger.outages(),
        "jobs_left": leftover,
        "check": checked,
        **verified,
    }
    report["passed"] = (
        report["lost"] == 0
        and report["stale"] == 0
        and report["deleted_found"] == 0
        and checked.get("differences") == 0
        and report["responses_500"] == 0
        and not any(leftover.values())
        and unrecovered == 0
    )
    return report


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


def render(report: dict[str, Any]) -> str:
    lines = [
        f"chaos soak: {report['minutes']} min, seed {report['seed']}, {report['faults']} faults, "
        f"{report['documents']} documents, {report['chunks_embedded']} chunks embedded",
        f"{'fault':<22}{'n':>4}{'recovered':>11}{'p50 s':>8}{'max s':>8}",
    ]
    for kind, f in report["recovery"].items():
        lines.append(
            f"{kind:<22}{f['faults']:>4}{f['recovered']:>11}{f['p50_s'] or '-':>8}"
            f"{f['max_s'] or '-':>8}"
        )
    check = report["check"]
    lines += [
        f"acknowledged: {report['present']} present, {report['deleted']} deleted, "
        f"{report['uncertain']} uncertain (a request since not acknowledged), "
        f"{report['cut_off']} deletions cut off (failed, saying so)",
        f"lost {report['lost']}, stale versions found {report['stale']}, deleted but found "
        f"{report['deleted_found']}; docqa check differences: {check.get('differences')} "
        f"({check.get('vectors')} chunks in Chroma)",
        f"responses 500: {report['responses_500']}, 503: {report['responses_503']}; "
        f"jobs left: {report['jobs_left']}; restarts: {report.get('restarts')}",
        "PASSED" if report["passed"] else "FAILED",
    ]
    return "\n".join(lines)
