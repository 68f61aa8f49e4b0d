"""Overlapping faults for the chaos soak (``bench/chaos.py``): one lane per target, each a
thread striking its own kinds on a schedule drawn from the seed, and a prober whose
successes give each fault its recovery time.

A lane's schedule (``schedule``, pure): its kinds in shuffled rounds (so each kind gets its
share), ``per_kind`` of each, spread evenly over the soak, each fault planned at the start of
its slot plus a jitter, held for a time drawn from ``HOLD_S``; all drawn from a ``Random`` of
the seed and the lane's name, so a run is reproducible as far as timing allows. A lane strikes
when its fault's time has come and its previous fault is over (a killed process started
again, taking connections, and up for the supervisor's ``SETTLE_S``: killing it sooner is a
crash loop, which ``docqa run`` gives up on), so faults on different targets overlap, never
two on one target.

Recovery (``recover``, pure): a fault's time from its start until the first probe cycle whose
write was acknowledged after the fault's end had its search succeed. Another fault running
then delays it: the figures are the time until the whole service wrote and searched again.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.chaos_faults import KINDS, PROCESSES, RECOVERY_LIMIT_S, Fault, Injector, Probe
from docqa.stack.supervision import SETTLE_S

LANES: dict[str, tuple[str, ...]] = {
    **{target: (f"kill:{target}", f"stop:{target}") for target in PROCESSES},
    "embedder": tuple(k for k in KINDS if k.startswith("embedder:")),
}
HOLD_S = (2.0, 5.0)  # how long a stop, an embedder's failure or slowness lasts
JITTER = 0.4  # a fault strikes within the first JITTER of its slot


@dataclass(frozen=True)
class Planned:
    at_s: float  # from the soak's start
    kind: str
    hold_s: float


def per_kind(minutes: float, rate: float) -> int:
    """Faults of each kind in a soak of ``minutes`` at ``rate`` per kind per minute (>= 1)."""
    return max(1, math.ceil(minutes * rate))


def schedule(
    lane: str, kinds: Sequence[str], count: int, seconds: float, seed: int
) -> list[Planned]:
    """``count`` faults of each of ``kinds`` over ``seconds``, for the lane named ``lane``."""
    rng = random.Random(f"{seed}:{lane}")
    order: list[str] = []
    for _ in range(count):
        round_ = list(kinds)
        rng.shuffle(round_)
        order += round_
    slot = seconds / len(order)
    return [
        Planned(round(i * slot + rng.uniform(0, JITTER * slot), 3), kind, rng.uniform(*HOLD_S))
        for i, kind in enumerate(order)
    ]


def recover(faults: Sequence[Fault], cycles: Sequence[tuple[float, float]]) -> None:
    """Set each fault's ``recovered_s`` from the probe's ``cycles`` (write acknowledged at,
    search succeeded at; in order): the first cycle written after the fault ended, if it
    succeeded within ``RECOVERY_LIMIT_S`` of the fault's start."""
    for fault in faults:
        fault.recovered_s = None
        for acked, done in cycles:
            if acked >= fault.ended:
                if done - fault.started <= RECOVERY_LIMIT_S:
                    fault.recovered_s = round(done - fault.started, 3)
                break


class Lane(threading.Thread):
    """Strikes its planned faults, from ``started`` (monotonic), until its plan or ``stop``
    ends."""

    def __init__(
        self,
        name: str,
        plan: list[Planned],
        injector: Injector,
        started: float,
        stop: threading.Event,
        say: Callable[[str], None],
    ) -> None:
        super().__init__(name=f"chaos-lane-{name}", daemon=True)
        self.plan, self.injector, self.started = plan, injector, started
        self.stop, self.say = stop, say
        self.slow_backs = 0  # killed processes not back within the injector's limit

    def run(self) -> None:
        not_before = 0.0
        for planned in self.plan:
            due = max(self.started + planned.at_s, not_before)
            if self.stop.wait(max(0.0, due - time.monotonic())):
                return
            target = planned.kind.split(":")[1]
            proc = self.injector.stack.procs.get(target)
            pid = proc.pid if proc is not None else -1
            fault = self.injector.strike(planned.kind, planned.hold_s)
            if not self.injector.back(planned.kind, pid):
                self.slow_backs += 1
                self.say(f"{planned.kind}: not back within the limit")
            elif planned.kind.startswith("kill:"):
                # the next fault strikes a process that came up healthy: one killed sooner
                # would be a crash loop, which docqa run rightly gives up on
                not_before = time.monotonic() + SETTLE_S + 1
            self.say(f"{fault.kind} at {fault.started - self.started:.1f} s")


class Prober(threading.Thread):
    """Runs the probe's cycles back to back; ``cycles``: (write acknowledged, search
    succeeded) times. A write not found within ``RECOVERY_LIMIT_S`` is given up for a new
    one (the end's ``docqa check`` still sees it)."""

    def __init__(self, probe: Probe) -> None:
        super().__init__(name="chaos-prober", daemon=True)
        self.probe = probe
        self.cycles: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            if self.probe():
                self.cycles.append((self.probe.acked_at, time.monotonic()))
                self.stop.wait(0.3)
                continue
            if self.probe.pending and time.monotonic() - self.probe.acked_at > RECOVERY_LIMIT_S:
                self.probe.pending = None
            self.stop.wait(0.2)

    def covers(self, faults: Sequence[Fault]) -> bool:
        """Whether a cycle was written after the end of every fault."""
        last = max((f.ended for f in faults), default=0.0)
        return any(acked >= last for acked, _ in self.cycles)
