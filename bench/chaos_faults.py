"""The chaos soak's fault injector (``bench/chaos.py``): faults of every kind at times drawn
from a seed, each process brought back as production would (the supervisor of ``docqa run``
restarts what was killed; a stopped process is continued), and each fault's time to recovery.

Kinds: ``kill:<process>`` (SIGKILL; the worker's whole process group, as its container's end
would), ``stop:<process>`` (SIGSTOP for a hold of a few seconds, then SIGCONT) for the worker,
the queue's Redis, the keyword Redis, Chroma and the API; ``embedder:429`` and
``embedder:503`` (the TEI stand-in answers those for the hold) and ``embedder:slow`` (the
stand-in stopped for the hold: every embedding waits). When and which: ``bench/chaos_lanes``
(one lane per target, so faults on different targets overlap).

Recovery is measured from the fault's start to the moment a write and a search have both
succeeded after its end (``Probe``, run back to back by ``chaos_lanes.Prober``): a probe
document posted (202) and then found by keyword search (so the worker indexed it), and a
hybrid search answered 200.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import httpx

from bench.chaos_load import phrase
from bench.tei_stub import TeiStub
from docqa.stack.local import Stack
from docqa.stack.processes import port_open

PROCESSES = ("worker", "redis", "keyword-redis", "chroma", "api")
KINDS = (
    *(f"kill:{p}" for p in PROCESSES),
    *(f"stop:{p}" for p in PROCESSES),
    "embedder:429",
    "embedder:503",
    "embedder:slow",
)
RECOVERY_LIMIT_S = 300.0
BACK_LIMIT_S = 120.0


@dataclass
class Fault:
    kind: str
    started: float
    ended: float = 0.0
    recovered_s: float | None = None  # None: not recovered within RECOVERY_LIMIT_S


@dataclass
class Injector:
    """Strikes one fault at a time per target; lanes (``bench/chaos_lanes``) call it from
    their threads, each for its own target, so faults on different targets overlap."""

    stack: Stack
    tei: TeiStub
    faults: list[Fault] = field(default_factory=list)
    stopped: set[int] = field(default_factory=set)  # pids under SIGSTOP
    lock: threading.Lock = field(default_factory=threading.Lock)

    def strike(self, kind: str, hold: float) -> Fault:
        """Inject one fault and end it (a stopped process continued, the stub answering again
        ``hold`` s later; a killed one left to the supervisor): the fault, recorded."""
        fault = Fault(kind, time.monotonic())
        action, target = kind.split(":")
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
        with self.lock:
            self.faults.append(fault)
        return fault

    def back(self, kind: str, pid: int, limit_s: float = BACK_LIMIT_S) -> bool:
        """After a kill: wait until the supervisor has started ``kind``'s process again
        (another pid, running) and it takes connections, so the lane's next fault strikes a
        process that came up. Other kinds: at once. Whether it came back within ``limit_s``."""
        action, target = kind.split(":")
        if action != "kill":
            return True
        ports = {
            "redis": self.stack.redis_port,
            "keyword-redis": self.stack.keyword_redis_port,
            "chroma": self.stack.chroma_port,
            "api": self.stack.api_port,
        }
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            proc = self.stack.procs[target]
            if proc.pid != pid and proc.poll() is None:
                port = ports.get(target)
                if port is None or port_open(port, self.stack.address):
                    return True
            time.sleep(0.2)
        return False

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
        with self.lock:
            if sig == signal.SIGSTOP:
                self.stopped.add(pid)
            elif sig == signal.SIGCONT:
                self.stopped.discard(pid)

    def release(self) -> None:
        """Continue whatever is still stopped (a soak cut short) and end the stub's faults."""
        with self.lock:
            stopped = list(self.stopped)
        for pid in stopped:
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
        self.acked_at = 0.0  # when the last probe was acknowledged (monotonic)

    def __call__(self) -> bool:
        try:
            if self.pending is None:
                self.sent += 1
                word = phrase(self.sent, 1)
                document = {"id": f"probe-{self.sent}", "text": f"Probe {word} after a fault."}
                body = {"collection": self.collection, "documents": [document]}
                if self.client.post("/documents", json=body, timeout=10).status_code != 202:
                    return False
                self.pending, self.acked_at = word, time.monotonic()
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
