"""Runs stages in threads of their own, joined by bounded queues, and stops them all on a failure.

``run(source, stage, stage, ..., depths=...)``: ``source(emit)`` emits items to the first
stage; each stage is called once per item of the one before it, as ``stage(item, emit)``, and
emits to the next (the last one's ``emit`` drops what it is given). Queue ``i`` (between stage
``i`` and ``i + 1``) holds at most ``depths[i]`` items (0: unbounded), so a fast stage waits for
a slow one and memory stays bounded.

The first exception raised in any stage sets a shared stop event: every other stage stops at
its next step (a wait on a queue looks at the event every ``POLL_S``), and ``run`` raises that
exception once every thread has ended. A call already under way to an outside system is
waited for (each has its own timeout), so no thread outlives ``run`` and no stage writes after
it has returned or raised. ``run`` interrupted itself (a job timeout's exception in the
calling thread) stops the stages the same way, then lets the interruption through.

Each thread runs in a copy of the caller's ``contextvars`` context, so its logs keep the
request's id.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

POLL_S = 0.05

Emit = Callable[[Any], None]
Source = Callable[[Emit], None]
Stage = Callable[[Any, Emit], None]


class Stopped(Exception):
    """Raised in a stage waiting on a queue when another stage has failed."""


_END = object()


class Pipe:
    """A queue of at most ``depth`` items (0: unbounded) whose waits end when ``stop`` is set."""

    def __init__(self, depth: int, stop: threading.Event) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = stop

    def put(self, item: Any) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=POLL_S)
                return
            except queue.Full:
                continue
        raise Stopped

    def get(self) -> Any:
        while not self._stop.is_set():
            try:
                return self._queue.get(timeout=POLL_S)
            except queue.Empty:
                continue
        raise Stopped

    def qsize(self) -> int:
        return self._queue.qsize()


def run(source: Source, *stages: Stage, depths: Sequence[int]) -> None:
    """Run ``source`` and ``stages`` to the end (see the module docstring)."""
    if len(depths) != len(stages):
        raise ValueError(f"{len(stages)} stages need {len(stages)} queue depths, not {len(depths)}")
    stop = threading.Event()
    errors: list[BaseException] = []
    pipes = [Pipe(depth, stop) for depth in depths]

    def emit_to(index: int) -> Emit:
        return pipes[index].put if index < len(pipes) else _drop

    def first() -> None:
        source(emit_to(0))
        if pipes:
            pipes[0].put(_END)

    def later(index: int) -> Callable[[], None]:
        def consume() -> None:
            emit = emit_to(index + 1)
            while (item := pipes[index].get()) is not _END:
                stages[index](item, emit)
            if index + 1 < len(pipes):
                pipes[index + 1].put(_END)

        return consume

    def guarded(body: Callable[[], None]) -> None:
        try:
            body()
        except Stopped:
            pass
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    bodies = [first, *(later(index) for index in range(len(stages)))]
    threads = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(guarded, body),
            name=f"docqa-pipeline-{number}",
            daemon=True,
        )
        for number, body in enumerate(bodies)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]


def _drop(item: Any) -> None:
    """The last stage's ``emit``: it has no stage after it."""
