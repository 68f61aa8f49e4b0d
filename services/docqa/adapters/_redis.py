"""Redis as every adapter reaches it: one client builder with bounded waits, and one mapping of
Redis's failures to ``Unavailable``.

Facts of redis-py this relies on:
- Without ``socket_connect_timeout`` and ``socket_timeout`` a client waits for ever on a Redis
  that accepts connections but does not answer (a process paused with SIGSTOP, a partition).
  Each client here gets both, so a request meets ``TimeoutError`` within seconds.
- ``redis.exceptions.ConnectionError`` (refused, reset, closed) and ``TimeoutError`` are what
  an outage raises; ``BusyLoadingError`` (a restart replaying its append-only file) is a
  ``ConnectionError``. ``ResponseError`` is Redis saying no to a command: a bug or bad input,
  not an outage, so it is not mapped here.
- RQ raises the socket timeout of the connection it is given (to the dequeue timeout plus
  10 s) while a worker waits for jobs: give RQ a client of its own, so that the catalog's
  short timeouts stay short.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from docqa.core.errors import Unavailable

P = ParamSpec("P")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 2.0
SOCKET_TIMEOUT_S = 5.0
OUTAGES = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def client(
    url: str,
    *,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    socket_timeout_s: float | None = SOCKET_TIMEOUT_S,
) -> Redis:
    """A client whose every wait is bounded (``socket_timeout_s=None`` only for RQ's blocking
    dequeue connection, which sets its own)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=socket_timeout_s,
        health_check_interval=30,
    )


@contextmanager
def reachable(service: str = "redis") -> Iterator[None]:
    """Turn an outage of the Redis named ``service`` into ``Unavailable`` (answered 503)."""
    try:
        yield
    except OUTAGES as exc:
        raise Unavailable(f"{service} is unavailable: {exc}", service=service) from exc


def guarded(service: str = "redis") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator form of ``reachable`` for adapter methods."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with reachable(service):
                return method(*args, **kwargs)

        return wrapper

    return decorate
