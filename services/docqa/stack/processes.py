"""The processes of the local stack (``docqa.stack.local.Stack``): free ports, waiting until a
process is ready (its port open, a Redis answering), and ending a process together with its process
group.

A worker runs in a process group of its own, so that one ``killpg`` reaches every process it
forked (RQ's scheduler, forked at any moment) and their children; ``/proc/<pid>/stat`` says
which processes of a group still run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from docqa.adapters import _redis
from docqa.core.waiting import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(
    check: Callable[[], object], what: str, timeout_s: float, proc: subprocess.Popen[bytes]
) -> None:
    """Until ``check()`` is truthy (its errors count as not yet); ``RuntimeError`` as soon as
    ``proc`` exits, ``TimeoutError`` after ``timeout_s``."""

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        with contextlib.suppress(Exception):
            return bool(check())
        return False

    wait_until(ready, timeout_s, f"{what} to become ready")


def terminate(proc: subprocess.Popen[bytes], timeout_s: float = 15) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within ``timeout_s``. A process that
    leads a process group of its own (a worker) leaves none of it running: what its shutdown
    did not stop (RQ's scheduler, when the worker itself needed SIGKILL) gets SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        leads = os.getpgid(proc.pid) == proc.pid  # read while ours, before it is reaped
    except ProcessLookupError:
        leads = False
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if leads:
        kill_group(proc.pid)


def kill_group(pgid: int) -> None:
    """SIGKILL every process of process group ``pgid`` and wait until none runs: SIGKILL takes
    effect only when a process next runs. (A group's id, its leader's pid, is not given to
    another process while any process of the group is left, reaped leader or not.)"""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    wait_until(lambda: not running_in_group(pgid), 30, f"process group {pgid} to end after SIGKILL")


def running_in_group(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` that have not exited (a zombie, exited and not
    yet reaped, holds no file or socket: not counted), from ``/proc/<pid>/stat``."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:  # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):  # gone meanwhile
            continue
        if int(pgrp) == pgid and state not in ("Z", "X"):
            running.append(int(stat.parent.name))
    return running


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def redis_answers(url: str) -> bool:
    """Whether the Redis at ``url`` answers PING: not while it reads its data back (LOADING)."""
    with _redis.client(url) as client:
        return bool(client.ping())
