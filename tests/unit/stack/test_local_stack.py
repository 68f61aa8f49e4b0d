"""The local stack kills or stops a worker with every process the worker forked, never starts
a second process under a running one's name, and gives each added worker its own name and
metrics port."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import pytest

from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from docqa.stack.processes import running_in_group, terminate
from docqa.stack.programs import StackError

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


# Stands in for a worker: writes the name and metrics port it was given to argv[1], then sleeps.
TELLING_WORKER = """
import os, sys, time
with open(sys.argv[1] + ".tmp", "w") as out:
    out.write(os.environ["DOCQA_WORKER_NAME"] + " " + os.environ["DOCQA_WORKER_METRICS_PORT"])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
"""


def test_more_workers_each_get_a_name_and_a_metrics_port_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = iter(tmp_path / f"told-{n}" for n in (2, 3))
    files = []

    def telling() -> list[str]:
        files.append(next(told))
        return [sys.executable, "-c", TELLING_WORKER, str(files[-1])]

    monkeypatch.setattr("docqa.stack.local.worker_args", telling)
    stack = Stack(data_dir=tmp_path)
    try:
        ports = stack.start_more_workers(2)
        said = [wait_until(partial(_told, f), 30, f.name) for f in files]
        assert said == [f"docqa-worker-2 {ports[0]}", f"docqa-worker-3 {ports[1]}"]
        assert ports[0] != ports[1]
        workers = [stack.procs["worker-2"], stack.procs["worker-3"]]
    finally:
        stack.stop()
    assert [worker.poll() for worker in workers] == [-15, -15]  # stop() ends them too


def _told(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None
