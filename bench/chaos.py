"""The chaos soak: ``python -m bench --only chaos --minutes M --seed S``.

A private local stack (its worker embedding through the TEI stand-in, ``bench/tei_stub``, so
the embedder can be made to fail) runs under ``docqa run``'s supervisor
(``docqa.stack.supervision``), with a producer and a reader (``bench/chaos_load``; the producer
paced by the queue's backlog, so the recovery probe waits behind a few jobs, not minutes of
them) while the fault injector (``bench/chaos_faults``) strikes for ``M`` minutes, one lane per
target (``bench/chaos_lanes``): faults on different targets overlap. Then everything stopped is
continued, the load ends, the queue drains, and the end state is checked
(``bench/chaos_verdict``):

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
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from bench.chaos_faults import RECOVERY_LIMIT_S, Injector, Probe, recovery_figures
from bench.chaos_lanes import LANES, Lane, Prober, per_kind, recover, schedule
from bench.chaos_load import Ledger, Producer, Reader
from bench.chaos_verdict import COLLECTION, docqa_check, drain, verify
from bench.corpus import REPO
from bench.tei_stub import TeiStub
from docqa.stack.local import Stack
from docqa.stack.processes import free_port
from docqa.stack.supervision import CrashPolicy, GaveUp, Supervisor

NAME = "chaos"
PROBES = "chaos-probe"
OUT = REPO / "build" / "chaos.json"
ENV = {  # jobs cut off by a fault are retried for minutes, not given up on
    "DOCQA_JOB_RETRIES": "40",
    "DOCQA_JOB_RETRY_INTERVALS_S": "[1, 2, 4, 8]",
}
LONG_RATE = 2.0  # faults of each kind per minute in a long soak: 60 minutes, 120 of each


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
        # docqa run's own rule: a process killed after it came up is always started again
        supervisor = Supervisor(stack, CrashPolicy(), said.append)
        watcher = threading.Thread(target=watch, args=(supervisor, stop, said), daemon=True)
        try:
            stack.start()
            watcher.start()
            report = soak(stack, tei, minutes, seed, getattr(args, "faults_per_kind", None))
        finally:
            stop.set()
            stack.stop()
    report["restarts"] = supervisor.restarts
    report["supervisor_gave_up"] = [line for line in said if "giving up" in line]
    report["passed"] = report["passed"] and not report["supervisor_gave_up"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(render(report))
    print(f"\nwritten to {OUT}")
    return 0 if report["passed"] else 1


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 2) if ordered else None


def watch(supervisor: Supervisor, stop: threading.Event, said: list[str]) -> None:
    """The supervisor's loop; its giving up is said (and fails the soak's invariants)."""
    try:
        supervisor.run(stop)
    except GaveUp as exc:
        said.append(f"giving up: {exc}")


def soak(
    stack: Stack, tei: TeiStub, minutes: float, seed: int, faults_per_kind: int | None = None
) -> dict[str, Any]:
    ledger = Ledger()
    injector = Injector(stack, tei)
    # a short soak (CI's) strikes each kind once; a long one about twice a minute
    short = minutes <= 5
    count = faults_per_kind or per_kind(minutes, 0.5 if short else LONG_RATE)

    def say(line: str) -> None:
        print(f"… {line}", file=sys.stderr, flush=True)

    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        # a long soak's documents are 4 times CI's: more chunks written for the same requests
        producer = Producer(client, COLLECTION, seed, ledger, sections=6 if short else 24)
        reader = Reader(client, COLLECTION, seed, ledger)
        prober = Prober(Probe(client, PROBES))
        producer.start()
        reader.start()
        prober.start()
        started, stop = time.monotonic(), threading.Event()
        lanes = [
            Lane(
                name, schedule(name, kinds, count, minutes * 60, seed), injector, started, stop, say
            )
            for name, kinds in LANES.items()
        ]
        for lane in lanes:
            lane.start()
        try:
            for lane in lanes:
                lane.join(max(0.0, started + minutes * 60 + 600 - time.monotonic()))
            # the load runs the soak's whole minutes, past the lanes' last faults
            stop.wait(max(0.0, started + minutes * 60 - time.monotonic()))
        finally:
            stop.set()
            injector.release()
        soaked_s = time.monotonic() - started
        # the last faults' recovery: a probe written after the last one ended, or the limit
        wait_until_quiet = time.monotonic() + RECOVERY_LIMIT_S
        while not prober.covers(injector.faults) and time.monotonic() < wait_until_quiet:
            time.sleep(0.5)
        for thread in (producer, reader, prober):
            thread.stop.set()
        for thread in (producer, reader, prober):
            thread.join(60)
        producer.finish()  # deletions still cut off, sent again now that the faults are over
        leftover = drain(stack)
        checked = docqa_check(stack)
        verified = verify(client, ledger)
    recover(injector.faults, prober.cycles)
    figures = recovery_figures(injector.faults)
    unrecovered = sum(1 for f in injector.faults if f.recovered_s is None)
    report: dict[str, Any] = {
        "minutes": round(soaked_s / 60, 2),
        "seed": seed,
        "faults": len(injector.faults),
        "faults_planned_per_kind": count,
        "overlapping": True,
        "recovery": figures,
        "not_back_within_limit": sum(lane.slow_backs for lane in lanes),
        "probe_cycles": len(prober.cycles),
        # a probe's wait from acknowledged to found by search: the queue's backlog under faults
        "probe_indexed_p50_s": median(done - acked for acked, done in prober.cycles),
        "producer_backlog_waits": producer.waits,
        "deletions_cut_off_left": len(producer.cut_off),
        "documents": len(ledger.entries),
        "chunks_embedded": tei.counters()["embedded"],
        "chunks_per_minute": round(tei.counters()["embedded"] / (soaked_s / 60)),
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


def render(report: dict[str, Any]) -> str:
    lines = [
        f"chaos soak: {report['minutes']} min, seed {report['seed']}, {report['faults']} faults, "
        f"{report['documents']} documents, {report['chunks_embedded']} chunks embedded "
        f"({report['chunks_per_minute']}/min); probe indexed p50 {report['probe_indexed_p50_s']} s "
        f"over {report['probe_cycles']} cycles",
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
