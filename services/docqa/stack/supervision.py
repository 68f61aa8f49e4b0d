"""Keeps the local stack's processes running (``docqa run``), as compose's ``restart:`` policy
does in production: a process that exits is started again after a back-off, and the supervisor
says so; one that keeps crashing (``CrashPolicy``: more than ``limit`` exits within
``window_s``, each before it had run ``settle_s``) makes it give up (``GaveUp``) with a message
naming it and its log. A process that ran ``settle_s`` came up healthy: when it exits (killed,
or its host's fault) its earlier exits are forgotten and it is started again after the first
delay, however often that happens; a crash loop is a process dying right after each start.

A stopped process (SIGSTOP) has not exited: it is left alone, as compose leaves it. Processes
a caller stops on purpose (``Stack.stop_service``) are put in ``held`` while they are down.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from docqa.stack.local import RESTARTABLE

RESTART_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 15.0)  # after the 1st, 2nd... exit within the window
GIVE_UP_AFTER = 5  # exits within WINDOW_S: one more and the supervisor gives up
WINDOW_S = 300.0
SETTLE_S = 10.0  # a process up this long came up healthy: its earlier exits are forgotten


class GaveUp(RuntimeError):
    """A process crashed too often; the message says which, how often, and where its log is."""


@dataclass
class CrashPolicy:
    delays: Sequence[float] = RESTART_DELAYS_S
    limit: int = GIVE_UP_AFTER
    window_s: float = WINDOW_S
    settle_s: float = SETTLE_S
    exits: dict[str, list[float]] = field(default_factory=dict)

    def exited(self, name: str, now: float, up_s: float = 0.0) -> float | None:
        """Record an exit of ``name`` at ``now`` after ``up_s`` running: the wait before
        starting it again, or None when it has exited more than ``limit`` times within
        ``window_s``, each before ``settle_s`` (give up). An exit after ``settle_s`` starts
        the count afresh."""
        earlier = [] if up_s >= self.settle_s else self.exits.get(name, [])
        recent = [t for t in earlier if now - t < self.window_s] + [now]
        self.exits[name] = recent
        if len(recent) > self.limit:
            return None
        return self.delays[min(len(recent), len(self.delays)) - 1]

    def count(self, name: str) -> int:
        return len(self.exits.get(name, []))


class Supervised(Protocol):
    """What the supervisor needs of a stack (``docqa.stack.local.Stack``)."""

    data_dir: Path
    procs: dict[str, subprocess.Popen[bytes]]

    def restart(self, name: str) -> subprocess.Popen[bytes]: ...


def _say(line: str) -> None:
    print(f"docqa run: {line}", file=sys.stderr, flush=True)


class Supervisor:
    """Call ``tick()`` every so often (``run`` does, until its event is set)."""

    def __init__(
        self,
        stack: Supervised,
        policy: CrashPolicy | None = None,
        say: Callable[[str], None] = _say,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stack = stack
        self.policy = policy or CrashPolicy()
        self.say = say
        self.clock = clock
        self.due: dict[str, float] = {}  # name -> when it is started again
        self.held: set[str] = set()
        self.restarts: dict[str, int] = {}
        self.started: dict[str, float] = {}  # name -> when it was started (or first seen)

    def tick(self) -> None:
        now = self.clock()
        for name, proc in list(self.stack.procs.items()):
            if name in self.held or name not in RESTARTABLE:
                continue
            if name in self.due:
                if now >= self.due[name]:
                    del self.due[name]
                    started = self.stack.restart(name)
                    self.started[name] = self.clock()
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self.say(f"{name} started again (pid {started.pid})")
                continue
            self.started.setdefault(name, now)
            code = proc.poll()
            if code is None:
                continue
            wait = self.policy.exited(name, now, up_s=now - self.started[name])
            log = self.stack.data_dir / "logs" / f"{name}.log"
            if wait is None:
                raise GaveUp(
                    f"{name} exited {self.policy.count(name)} times within "
                    f"{self.policy.window_s:.0f} s (last with code {code}); giving up. "
                    f"Its output: {log if log.exists() else 'above'}"
                )
            self.say(
                f"{name} exited with code {code}; starting it again in {wait:.0f} s "
                f"(exit {self.policy.count(name)} of {self.policy.limit} allowed in "
                f"{self.policy.window_s:.0f} s)"
            )
            self.due[name] = now + wait

    def run(self, stop: threading.Event, interval_s: float = 0.5) -> None:
        """Tick until ``stop`` is set; ``GaveUp`` ends it (and is raised)."""
        while not stop.wait(interval_s):
            self.tick()
