"""The supervisor of ``docqa run`` on real short-lived processes and a clock of its own: the
back-off grows with each exit, a process is started again only once its wait is over, a
running, stopped-on-purpose or unknown process is left alone, and repeated crashes give up
with a message that names the process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from docqa.stack.supervision import CrashPolicy, GaveUp, Supervisor


def sleeper(seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def exited(code: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({code})"])
    proc.wait()
    return proc


class Processes:
    """A stack of stand-in processes: ``restart`` starts a long sleeper in the name's place."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarted: list[str] = []

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        self.restarted.append(name)
        self.procs[name] = sleeper(60)
        return self.procs[name]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Processes]:
    processes = Processes(tmp_path)
    yield processes
    for proc in processes.procs.values():
        proc.kill()
        proc.wait()


def test_the_wait_grows_with_each_exit_and_old_exits_are_forgotten() -> None:
    policy = CrashPolicy(delays=(1, 2, 4), limit=4, window_s=100)
    assert [policy.exited("worker", t) for t in (0, 1, 2, 3)] == [1, 2, 4, 4]
    assert policy.exited("worker", 4) is None  # a fifth within the window
    assert policy.exited("worker", 500) == 1  # the window has passed: counted afresh
    assert policy.exited("api", 500) == 1  # each process counts its own


def test_an_exited_process_is_started_again_after_its_wait(stack: Processes) -> None:
    clock, said = Clock(), list[str]()
    stack.procs = {"worker": exited(3), "api": sleeper(60)}
    supervisor = Supervisor(stack, CrashPolicy(delays=(2,)), said.append, clock)
    supervisor.tick()
    assert stack.restarted == []
    assert "worker exited with code 3; starting it again in 2 s" in said[0]
    clock.now += 1
    supervisor.tick()
    assert stack.restarted == []
    clock.now += 1
    supervisor.tick()
    assert stack.restarted == ["worker"]
    assert stack.procs["worker"].poll() is None
    assert said[-1] == f"worker started again (pid {stack.procs['worker'].pid})"
    supervisor.tick()
    assert stack.restarted == ["worker"]  # running now: left alone


def test_held_and_unknown_processes_are_left_alone(stack: Processes) -> None:
    stack.procs = {"chroma": exited(0), "worker-b": exited(1)}
    supervisor = Supervisor(stack, CrashPolicy(delays=(0,)), lambda _: None, Clock())
    supervisor.held.add("chroma")
    supervisor.tick()
    supervisor.tick()
    assert stack.restarted == []


def test_repeated_crashes_give_up_naming_the_process_and_its_log(stack: Processes) -> None:
    clock = Clock()
    (stack.data_dir / "logs").mkdir()
    (stack.data_dir / "logs" / "keyword-redis.log").write_text("crashed\n")
    policy = CrashPolicy(delays=(0,), limit=2, window_s=60)
    supervisor = Supervisor(stack, policy, lambda _: None, clock)
    stack.procs = {"keyword-redis": exited(1)}
    supervisor.tick()  # first exit: due now
    supervisor.tick()  # started again
    stack.procs["keyword-redis"].kill()  # second exit
    stack.procs["keyword-redis"].wait()
    supervisor.tick()
    supervisor.tick()
    stack.procs["keyword-redis"].kill()  # third: more than the limit
    stack.procs["keyword-redis"].wait()
    with pytest.raises(GaveUp, match=r"keyword-redis exited 3 times within 60 s") as failed:
        supervisor.tick()
    assert str(stack.data_dir / "logs" / "keyword-redis.log") in str(failed.value)


def test_exits_after_a_healthy_run_are_not_a_crash_loop() -> None:
    policy = CrashPolicy(delays=(1, 2, 4), limit=2, window_s=100, settle_s=10)
    # killed again and again, each time after it had come up: never given up on, first delay
    assert [policy.exited("api", t, up_s=12) for t in range(0, 60, 5)] == [1] * 12
    # dying right after each start is a crash loop, however healthy it was before (the count
    # starts afresh at the last healthy run's exit)
    assert policy.exited("api", 61, up_s=0.5) == 2
    assert policy.exited("api", 62, up_s=0.5) is None


def test_a_process_killed_often_after_coming_up_is_always_started_again(
    stack: Processes,
) -> None:
    clock = Clock()
    policy = CrashPolicy(delays=(0,), limit=2, window_s=600, settle_s=10)
    supervisor = Supervisor(stack, policy, lambda _: None, clock)
    stack.procs = {"worker": sleeper(60)}
    supervisor.tick()  # first seen: running
    for _ in range(6):  # six kills within the window, each after 20 s up
        clock.now += 20
        stack.procs["worker"].kill()
        stack.procs["worker"].wait()
        supervisor.tick()  # exit seen: due now
        supervisor.tick()  # started again
    assert stack.restarted == ["worker"] * 6
    assert supervisor.restarts == {"worker": 6}
