"""The chaos soak's fault injector (``bench/chaos.py``): faults of every kind at times drawn
from a seed, each process brought back as production would (the supervisor of ``docqa run``
restarts what was killed; a stopped process is continued), and each fault's time to recovery.

Kinds: ``kill:<process>`` (SIGKILL; the worker's whole process group, as its container's end
would), ``stop:<process>`` (SIGSTOP for ``stop_s``, then SIGCONT) for the worker, the queue's
Redis, the keyword Redis, Chroma and the API; ``embedder:429`` and ``embedder:503`` (the TEI
stand-in answers those for ``stop_s``) and ``embedder:slow`` (the stand-in stopped for
``stop_s``: every embedding waits). The kinds come round in a shuffled order, so each gets its
share; the gaps between faults are drawn uniformly from ``gap_s``.

Recovery is measured from the fault's start to the moment a write and a search have both
succeeded after its end (``Probe``): a probe document posted (202) and then found by keyword
search (so the worker indexed it), and a hybrid search answered 200.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.chaos_load import phrase
from bench.tei_stub import TeiStub
from docqa.stack.local import Stack

PROCESSES = ("worker", "redis", "keyword-redis", "chroma", "api")
KINDS = (
    *(f"kill:{p}" for p in PROCESSES),
    *(f"stop:{p}" for p in PROCESSES),
    "embedder:429",
    "embedder:503",
    "embedder:slow",
)
RECOVERY_LIMIT_S = 300.0


@dataclass
class Fault:
    kind: str
    started: float
    ended: float = 0.0
    recovered_s: float | None = None  # None: not recovered within RECOVERY_LIMIT_S


@dataclass
class Injector:
    stack: Stack
    tei: TeiStub
    seed: int
    stop_s: tuple[float, float] = (2.0, 5.0)
    gap_s: tuple[float, float] = (4.0, 10.0)
    faults: list[Fault] = field(default_factory=list)
    stopped: set[int] = field(default_factory=set)  # pids under SIGSTOP

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.order: list[str] = []

    def next_kind(self) -> str:
        if not self.order:
            self.order = list(KINDS)
            self.random.shuffle(self.order)
        return self.order.pop()

    def gap(self) -> float:
        return self.random.uniform(*self.gap_s)

    def inject(self, kind: str, probe: Callable[[], bool]) -> Fault:
        """Inject one fault, end it, and wait for recovery (``probe()``: a write and a search
        both succeeded)."""
        fault = Fault(kind, time.monotonic())
        action, target = kind.split(":")
        hold = self.random.uniform(*self.stop_s)
        if action == "kill":
            self._kill(target)
        elif action == "stop":
            pid = self.stack.procs[target].pid
            self._signal(pid, signal.SIGSTOP, group=target == "worker")
            time.sleep(hold)
            self._signal(pid, signal.SIGCONT, group=target == "worker")
        elif target == "slow":
            assert self.tei.proc is not None
            self._signal(self.tei.proc.pid, signal.SIGSTOP)
            time.sleep(hold)
            self._signal(self.tei.proc.pid, signal.SIGCONT)
        else:
            self.tei.faults([int(target)], for_s=hold)
            time.sleep(hold)
        fault.ended = time.monotonic()
        while time.monotonic() - fault.started < RECOVERY_LIMIT_S:
            if probe():
                fault.recovered_s = time.monotonic() - fault.started
                break
            time.sleep(0.2)
        self.faults.append(fault)
        return fault

    def _kill(self, target: str) -> None:
        proc = self.stack.procs[target]
        self._signal(proc.pid, signal.SIGKILL, group=target == "worker")

    def _signal(self, pid: int, sig: signal.Signals, group: bool = False) -> None:
        try:
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            return
        if sig == signal.SIGSTOP:
            self.stopped.add(pid)
        elif sig == signal.SIGCONT:
            self.stopped.discard(pid)

    def release(self) -> None:
        """Continue whatever is still stopped (a soak cut short) and end the stub's faults."""
        for pid in list(self.stopped):
            for send in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    send(pid, signal.SIGCONT)
        self.stopped.clear()
        with contextlib.suppress(OSError):
            self.tei.faults([429], for_s=0)


def recovery_figures(faults: list[Fault]) -> dict[str, dict[str, float | int | None]]:
    """Per kind: faults injected, recovered, and the recovery time's p50 and max (s)."""
    figures: dict[str, dict[str, float | int | None]] = {}
    for kind in KINDS:
        mine = [f for f in faults if f.kind == kind]
        times = sorted(f.recovered_s for f in mine if f.recovered_s is not None)
        figures[kind] = {
            "faults": len(mine),
            "recovered": len(times),
            "p50_s": round(times[len(times) // 2], 2) if times else None,
            "max_s": round(times[-1], 2) if times else None,
        }
    return figures


class Probe:
    """The recovery probe: a write that is indexed and a search, both successful. Each call
    does one step: post a probe document (until acknowledged), then look for it by its own word
    (keyword search, until found) and search by meaning (hybrid, answered 200)."""

    def __init__(self, client: httpx.Client, collection: str) -> None:
        self.client, self.collection = client, collection
        self.sent = 0
        self.pending: str | None = None  # the acknowledged probe's word, not yet found

    def __call__(self) -> bool:
        try:
            if self.pending is None:
                self.sent += 1
                word = phrase(self.sent, 1)
                document = {"id": f"probe-{self.sent}", "text": f"Probe {word} after a fault."}
                body = {"collection": self.collection, "documents": [document]}
                if self.client.post("/documents", json=body, timeout=10).status_code != 202:
                    return False
                self.pending = word
            found = self._search(self.pending, "keyword")
            if found is None or f"probe-{self.sent}" not in found:
                return False
            if self._search("probe after a fault", "hybrid") is None:
                return False
        except httpx.HTTPError:
            return False
        self.pending = None
        return True

    def _search(self, question: str, mode: str) -> list[str] | None:
        body = {"collection": self.collection, "question": question, "mode": mode}
        answer = self.client.post("/search", json=body, timeout=10)
        if answer.status_code != 200:
            return None
        return [hit["document_id"] for hit in answer.json()["hits"]]
