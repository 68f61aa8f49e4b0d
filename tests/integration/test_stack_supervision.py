"""``docqa run``'s supervisor on a real stack: the worker and the keyword index's Redis, each
killed with SIGKILL, are started again by it, and the service works after (a document posted
after the worker's death is indexed; keyword search finds what was indexed before the Redis
died)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from docqa.core.waiting import wait_until
from docqa.stack.local import Stack
from docqa.stack.processes import redis_answers
from docqa.stack.supervision import Supervisor
from support.api import wait_for_job
from support.stacks import private_stack


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, list[str]]]:
    with private_stack(
        tmp_path_factory, "supervised", why="it kills the stack's processes", generator=False
    ) as stack:
        said: list[str] = []
        stop = threading.Event()
        thread = threading.Thread(target=Supervisor(stack, say=said.append).run, args=(stop,))
        thread.start()
        try:
            yield stack, said
        finally:
            stop.set()
            thread.join()


def post(client: httpx.Client, collection: str, document_id: str, text: str) -> str:
    body = {"collection": collection, "documents": [{"id": document_id, "text": text}]}
    response = client.post("/documents", json=body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def restarted(stack: Stack, name: str, old_pid: int) -> bool:
    proc = stack.procs[name]
    return proc.pid != old_pid and proc.poll() is None


def test_a_killed_worker_is_started_again_and_indexes(
    supervised: tuple[Stack, list[str]], collection: str
) -> None:
    stack, said = supervised
    old = stack.procs["worker"].pid
    os.killpg(old, signal.SIGKILL)
    wait_until(lambda: restarted(stack, "worker", old), 60, "the worker to be started again")
    assert any(line.startswith("worker exited with code -9") for line in said), said
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        job = post(client, collection, "after", "Written after the worker was killed, zebra.")
        assert wait_for_job(client, job, 180)["state"] == "finished"


def test_a_killed_keyword_redis_is_started_again_with_its_data(
    supervised: tuple[Stack, list[str]], collection: str
) -> None:
    stack, said = supervised
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        job = post(client, collection, "kept", "The keyword index keeps the word quokka.")
        assert wait_for_job(client, job, 180)["state"] == "finished"
        old = stack.procs["keyword-redis"].pid
        time.sleep(1.5)  # past the append-only file's next fsync (every second)
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: restarted(stack, "keyword-redis", old), 60, "keyword-redis again")
        url = stack.env["DOCQA_KEYWORD_REDIS_URL"]
        wait_until(lambda: _answers(url), 60, "keyword-redis to load its data")
        assert any(line.startswith("keyword-redis exited with code -9") for line in said)
        search = {"collection": collection, "question": "quokka", "mode": "keyword"}
        found = client.post("/search", json=search)
        assert found.status_code == 200, found.text
        assert [hit["document_id"] for hit in found.json()["hits"]] == ["kept"]


def _answers(url: str) -> bool:
    try:
        return redis_answers(url)
    except Exception:
        return False
