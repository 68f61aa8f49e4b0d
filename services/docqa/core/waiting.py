"""Waiting for something outside this process to happen: one polling loop with a deadline.

``wait_until(predicate, timeout, what)`` calls ``predicate`` until it returns something truthy
and returns that; when ``timeout`` seconds pass first it raises ``TimeoutError`` naming
``what``, so a wait never ends silently. The stack, the tests, the bench and the evaluation
client all wait through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL_S = 0.2


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float,
    what: str | Callable[[], str],
    *,
    interval: float = INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``predicate``'s first truthy result, polling every ``interval`` s for ``timeout`` s.

    ``what`` names what is awaited in the ``TimeoutError``: a string, or a callable asked only
    on timeout (to report, say, the last state seen). An exception from ``predicate`` ends the
    wait; a predicate that must outlive errors (a server still starting) catches them itself.
    """
    deadline = clock() + timeout
    while True:
        result = predicate()
        if result:
            return result
        left = deadline - clock()
        if left <= 0:
            described = what() if callable(what) else what
            raise TimeoutError(f"{described}: not within {timeout:g} s")
        sleep(min(interval, left))
