"""pipeline.run: items pass through the stages in order, each queue holds at most its depth,
a failure in any stage is raised and stops the others, and no thread outlives the run."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

import pytest

from docqa.ingest import pipeline
from docqa.ingest.pipeline import Emit
from support.indexing_parts import settle


def alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("docqa-pipeline-")]


def numbers(count: int) -> Callable[[Emit], None]:
    def source(emit: Emit) -> None:
        for n in range(count):
            emit(n)

    return source


def test_items_pass_every_stage_in_order() -> None:
    seen: list[int] = []

    def double(item: int, emit: Emit) -> None:
        emit(item * 2)

    def keep(item: int, emit: Emit) -> None:
        seen.append(item)

    pipeline.run(numbers(50), double, keep, depths=(2, 2))
    assert seen == [n * 2 for n in range(50)]
    assert alive() == []


class Boom(Exception):
    pass


@pytest.mark.parametrize("failing", [0, 1, 2, 3])
def test_a_failure_in_any_stage_is_raised_and_stops_the_others(failing: int) -> None:
    """Stage ``failing`` (0: the source) raises at its 5th item; nothing after it sees more than
    the items before that, the stages before it stop instead of running through 1,000 items."""
    counts = [0, 0, 0, 0]

    def source(emit: Emit) -> None:
        for n in range(1000):
            counts[0] += 1
            if failing == 0 and n == 4:
                raise Boom("source")
            emit(n)

    def stage(index: int) -> pipeline.Stage:
        def body(item: int, emit: Emit) -> None:
            counts[index] += 1
            if failing == index and counts[index] == 5:
                raise Boom(f"stage {index}")
            emit(item)

        return body

    with pytest.raises(Boom) as raised:
        pipeline.run(source, stage(1), stage(2), stage(3), depths=(2, 2, 2))
    assert str(raised.value) == ("source" if failing == 0 else f"stage {failing}")
    assert alive() == []
    assert counts[0] < 1000  # the source was stopped
    assert all(count <= 5 for count in counts[failing + 1 :])


def test_the_queues_hold_at_most_their_depth() -> None:
    """The last stage waits: what came out of the source is what the queues and the stages
    hold, never more."""
    release, emitted = threading.Event(), []

    def source(emit: Emit) -> None:
        for n in range(100):
            emitted.append(n)
            emit(n)

    def passing(item: int, emit: Emit) -> None:
        emit(item)

    def waiting(item: int, emit: Emit) -> None:
        assert release.wait(10)

    runner = threading.Thread(
        target=pipeline.run, args=(source, passing, waiting), kwargs={"depths": (2, 3)}
    )
    runner.start()
    # 1 in the last stage, 3 queued for it, 1 in the middle stage, 2 queued for it, 1 being put
    bound = 1 + 3 + 1 + 2 + 1
    settle(lambda: len(emitted) >= bound)
    assert len(emitted) == bound  # and no more, once every stage is blocked
    release.set()
    runner.join(10)
    assert not runner.is_alive() and len(emitted) == 100


def test_the_stages_run_at_the_same_time() -> None:
    """Each stage waits until the other has started on an item: one after the other, they would
    wait for ever (here: until the 5 s timeout fails the test)."""
    first_busy, second_busy = threading.Event(), threading.Event()

    def source(emit: Emit) -> None:
        emit(1)
        emit(2)

    def first(item: int, emit: Emit) -> None:
        if item == 2:  # item 1 is in the second stage now: it waits for this
            first_busy.set()
            assert second_busy.wait(5)
        emit(item)

    def second(item: int, emit: Emit) -> None:
        if item == 1:
            second_busy.set()
            assert first_busy.wait(5)

    pipeline.run(source, first, second, depths=(1, 1))


def test_stages_see_the_callers_context() -> None:
    request: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")
    request.set("r-1")
    seen: set[str] = set()

    def stage(item: Any, emit: Emit) -> None:
        seen.add(request.get())

    pipeline.run(numbers(3), stage, depths=(1,))
    assert seen == {"r-1"}


def test_depths_must_match_the_stages() -> None:
    with pytest.raises(ValueError, match="2 stages need 2 queue depths"):
        pipeline.run(numbers(1), lambda i, e: None, lambda i, e: None, depths=(1,))


def test_a_gathering_stage_takes_what_waits_up_to_enough_and_never_waits_for_more() -> None:
    """The first call comes with the one item there was; while it is held, the rest pile up and
    come in lists whose sizes reach ``enough`` (3 here) and no further, the end's remainder last."""
    first_taken, release = threading.Event(), threading.Event()
    calls: list[list[int]] = []

    def source(emit: Emit) -> None:
        emit(0)
        assert first_taken.wait(5)
        for n in range(1, 9):
            emit(n)

    def write(items: list[int], emit: Emit) -> None:
        calls.append(items)
        if len(calls) == 1:
            first_taken.set()
            assert release.wait(5)

    gather = pipeline.Gather(write, size=lambda item: 1, enough=3)
    runner = threading.Thread(target=pipeline.run, args=(source, gather), kwargs={"depths": (0,)})
    runner.start()
    settle(lambda: first_taken.is_set())
    release.set()
    runner.join(10)
    assert calls == [[0], [1, 2, 3], [4, 5, 6], [7, 8]]
    assert alive() == []


def test_a_gathered_item_as_large_as_enough_is_handled_alone() -> None:
    calls: list[list[int]] = []
    gather = pipeline.Gather(lambda items, emit: calls.append(items), size=lambda n: n, enough=5)

    def source(emit: Emit) -> None:
        for n in (7, 5, 9):
            emit(n)

    pipeline.run(source, gather, depths=(0,))
    assert calls == [[7], [5], [9]]
