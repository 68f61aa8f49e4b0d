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

A stage wrapped in ``Gather(stage, size, enough)`` is called with a list instead: the item that
came, then those already waiting behind it in its queue, taken while their ``size`` sums to less
than ``enough``. It never waits for more: when its stage is the slower one, items pile up in the
queue and are handled together (one large write instead of several small ones); when it is the
faster one, each item is handled as soon as it comes.

Each thread runs in a copy of the caller's ``contextvars`` context, so its logs keep the
request's id.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

POLL_S = 0.05

Emit = Callable[[Any], None]
Source = Callable[[Emit], None]
Stage = Callable[[Any, Emit], None]


@dataclass(frozen=True)
class Gather:
    """A stage called with the items waiting together (module docstring)."""

    stage: Callable[[list[Any], Emit], None]
    size: Callable[[Any], int]
    enough: int


class Stopped(Exception):
    """Raised in a stage waiting on a queue when another stage has failed."""


_END = object()
_NONE = object()


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

    def waiting(self) -> Any:
        """The next item if one is waiting, else ``_NONE``; never waits."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return _NONE

    def qsize(self) -> int:
        return self._queue.qsize()


def run(source: Source, *stages: Stage | Gather, depths: Sequence[int]) -> None:
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
            emit, stage, pipe = emit_to(index + 1), stages[index], pipes[index]
            ended = False
            while not ended and (item := pipe.get()) is not _END:
                if isinstance(stage, Gather):
                    items, ended = _gathered(pipe, item, stage)
                    stage.stage(items, emit)
                else:
                    stage(item, emit)
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


def _gathered(pipe: Pipe, item: Any, gather: Gather) -> tuple[list[Any], bool]:
    """``item`` and those waiting behind it, up to ``gather.enough`` in size; True when the end
    was among them."""
    items, size = [item], gather.size(item)
    while size < gather.enough and (more := pipe.waiting()) is not _NONE:
        if more is _END:
            return items, True
        items.append(more)
        size += gather.size(more)
    return items, False


def _drop(item: Any) -> None:
    """The last stage's ``emit``: it has no stage after it."""
