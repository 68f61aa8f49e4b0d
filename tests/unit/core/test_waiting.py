"""wait_until: returns the predicate's first truthy result, or raises naming what it awaited."""

from __future__ import annotations

import pytest

from docqa.core.waiting import wait_until


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_truthy_result() -> None:
    clock = FakeClock()
    answers = iter([None, 0, {"state": "finished"}, {"state": "later"}])
    found = wait_until(lambda: next(answers), 10, "a job", clock=clock, sleep=clock.sleep)
    assert found == {"state": "finished"}
    assert clock.sleeps == [0.2, 0.2]


def test_a_timeout_raises_naming_what_was_awaited() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def never() -> bool:
        calls.append(clock.now)
        return False

    with pytest.raises(TimeoutError, match=r"the API to answer: not within 1 s"):
        wait_until(never, 1, "the API to answer", interval=0.3, clock=clock, sleep=clock.sleep)
    # polled at 0, 0.3, 0.6, 0.9 and once more at the deadline; never slept past it
    assert calls == pytest.approx([1000.0, 1000.3, 1000.6, 1000.9, 1001.0])
    assert clock.sleeps[-1] == pytest.approx(0.1)


def test_what_may_be_described_at_the_end() -> None:
    clock = FakeClock()
    seen: list[str] = []

    def job_done() -> bool:
        seen.append("started")
        return False

    with pytest.raises(TimeoutError, match=r"job j1 \(last seen: started\)"):
        wait_until(
            job_done,
            0.5,
            lambda: f"job j1 (last seen: {seen[-1]})",
            clock=clock,
            sleep=clock.sleep,
        )


def test_an_error_in_the_predicate_ends_the_wait() -> None:
    def broken() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError):
        wait_until(broken, 60, "never reached")
