"""``docqa ingest --watch``: a real folder, followed by ``watchfiles`` while it is edited,
renamed, added to and emptied, against the API served over real HTTP on 127.0.0.1 (uvicorn in
a thread, over fakes, so what the server accepted is read from its catalog); the API stopped
and started again in the middle. The events' meaning (``changes.Changes``) is tested apart."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import httpx
import pytest

from docqa.api.app import create_app
from docqa.client.changes import Changes
from docqa.client.sources import Failure, Root
from docqa.client.transport import Api
from docqa.client.watch import Tally, Watcher, follow
from docqa.core.config import Settings
from docqa.core.waiting import wait_until
from docqa.ingest import identity
from docqa.wiring import Services
from support.fakes import fake_services
from support.served import Served

WAIT_S = 20


class Running:
    """A watcher following ``folder`` in a thread, its status lines kept."""

    def __init__(self, folder: Path, url: str, *, delete_missing: bool = True) -> None:
        self.client = httpx.Client(base_url=url, timeout=10)
        self.out = io.StringIO()
        self.watcher = Watcher(
            Api(self.client, attempts=1),
            [Root(folder)],
            "notes",
            delete_missing=delete_missing,
            out=self.out,
        )
        self.stop = threading.Event()
        self.tally: Tally | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.tally = follow(self.watcher, self.stop, debounce_ms=200, catch_up=True)

    def __enter__(self) -> Running:
        self.thread.start()
        wait_until(lambda: "up to date" in self.out.getvalue(), WAIT_S, "the first look")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT_S)
        self.client.close()
        assert not self.thread.is_alive(), "the watcher did not stop"


@pytest.fixture
def api() -> Iterator[tuple[Services, Served]]:
    services = fake_services(Settings())
    served = Served(create_app(services.settings, services=services), lifespan="off").start()
    yield services, served
    served.stop()


def stored_hash(services: Services, document_id: str) -> str | None:
    record = services.catalog.get("notes", document_id)
    return record.content_hash if record is not None else None


def file_hash(path: Path, name: str) -> str:
    return identity.file_hash(path.read_bytes(), name, {})


def await_hash(services: Services, document_id: str, expected: str | None) -> None:
    wait_until(
        lambda: stored_hash(services, document_id) == expected,
        WAIT_S,
        lambda: f"{document_id} stored as {expected} (is {stored_hash(services, document_id)})",
    )


def test_a_folder_edited_renamed_moved_into_and_emptied(
    api: tuple[Services, Served], tmp_path: Path
) -> None:
    services, served = api
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nAlpha.\n")
    (folder / "b.txt").write_text("Bravo.\n")
    (folder / ".hidden.md").write_text("never sent\n")
    with Running(folder, served.url) as running:
        # caught up at the start (no first pass ran): both files sent, the hidden one not
        await_hash(services, "a.md", file_hash(folder / "a.md", "a.md"))
        await_hash(services, "b.txt", file_hash(folder / "b.txt", "b.txt"))
        assert stored_hash(services, ".hidden.md") is None

        (folder / "a.md").write_text("# A\n\nAlpha, edited.\n")  # edited
        await_hash(services, "a.md", file_hash(folder / "a.md", "a.md"))
        sent = running.watcher.tally.sent
        (folder / "b.txt").write_text("Bravo.\n")  # saved again, same content: not sent
        wait_until(lambda: running.watcher.tally.unchanged >= 1, WAIT_S, "an unchanged save")
        assert running.watcher.tally.sent == sent

        (folder / "b.txt").rename(folder / "c.txt")  # renamed: the old id deleted
        await_hash(services, "c.txt", file_hash(folder / "c.txt", "c.txt"))
        await_hash(services, "b.txt", None)

        outside = tmp_path / "sub"
        outside.mkdir()
        (outside / "x.md").write_text("X-ray.\n")
        outside.rename(folder / "sub")  # a folder moved in: its files sent
        await_hash(services, "sub/x.md", file_hash(folder / "sub" / "x.md", "sub/x.md"))

        for child in folder.iterdir():  # emptied
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        for document_id in ("a.md", "c.txt", "sub/x.md"):
            await_hash(services, document_id, None)
        assert running.watcher.tally.deleted == 4  # b.txt (renamed), then the three
    assert running.tally is not None and not running.tally.failed


def test_the_api_away_loses_nothing(api: tuple[Services, Served], tmp_path: Path) -> None:
    services, served = api
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("one\n")
    with Running(folder, served.url) as running:
        await_hash(services, "a.md", file_hash(folder / "a.md", "a.md"))
        served.stop()
        (folder / "a.md").write_text("two\n")
        (folder / "b.md").write_text("new while away\n")
        wait_until(lambda: "API away" in running.out.getvalue(), WAIT_S, "the outage seen")
        assert stored_hash(services, "b.md") is None
        served.start()  # back: the watcher catches up after its back-off
        await_hash(services, "a.md", file_hash(folder / "a.md", "a.md"))
        await_hash(services, "b.md", file_hash(folder / "b.md", "b.md"))
        wait_until(lambda: "up to date" in running.watcher.status(), WAIT_S, "up to date again")


def test_without_delete_missing_documents_stay(
    api: tuple[Services, Served], tmp_path: Path
) -> None:
    services, served = api
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("one\n")
    with Running(folder, served.url, delete_missing=False) as running:
        await_hash(services, "a.md", file_hash(folder / "a.md", "a.md"))
        (folder / "a.md").unlink()
        (folder / "b.md").write_text("two\n")
        await_hash(services, "b.md", file_hash(folder / "b.md", "b.md"))
        assert stored_hash(services, "a.md") is not None and running.watcher.tally.deleted == 0


def test_changes_marks_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.md").write_text("x")
    (tmp_path / "y.txt").write_text("y")
    (tmp_path / "z.bin").write_text("z")
    changes = Changes([Root(tmp_path)])
    failures: list[Failure] = []
    changes.seen([(1, str(tmp_path / "d")), (2, str(tmp_path / "z.bin"))], failures)
    assert changes.marked == {(0, PurePosixPath("d/x.md")): "read"}  # z.bin is not readable
    changes.seen([(2, str(tmp_path / "y.txt")), (2, "/elsewhere/q.md")], failures)
    assert changes.take() == {
        (0, PurePosixPath("d/x.md")): "read",
        (0, PurePosixPath("y.txt")): "read",
    }
    changes.ids_of = {(0, PurePosixPath("d/x.md")): {"d/x.md"}}
    shutil.rmtree(tmp_path / "d")
    changes.seen([(3, str(tmp_path / "d"))], failures)  # the folder gone: its files gone
    assert changes.marked == {(0, PurePosixPath("d/x.md")): "gone"}
    changes.keep((0, PurePosixPath("d/x.md")), "read")  # a newer mark is kept
    assert changes.marked[(0, PurePosixPath("d/x.md"))] == "gone"
    assert not failures


def test_the_command_follows_and_stops_cleanly_on_ctrl_c(
    api: tuple[Services, Served], tmp_path: Path
) -> None:
    services, served = api
    folder = tmp_path / "notes"
    folder.mkdir()  # empty: the first pass has no job to wait for
    log = tmp_path / "stderr.txt"
    argv = [sys.executable, "-m", "docqa.cli.main", "ingest", str(folder), "--watch"]
    argv += ["--collection", "notes", "--base-url", served.url, "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3] / "services")}
    with log.open("w") as err:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
        try:
            wait_until(lambda: "up to date" in log.read_text(), WAIT_S, "the watcher running")
            (folder / "a.md").write_text("Alpha.\n")
            await_hash(services, "a.md", file_hash(folder / "a.md", "a.md"))
            process.send_signal(signal.SIGINT)
            out, _ = process.communicate(timeout=WAIT_S)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, log.read_text()
    assert "documents read: 0" in out  # the first pass's summary
    assert "stopped: watching: 1 sent, 0 deleted" in out
    assert "Traceback" not in log.read_text()


def test_a_file_that_vanishes_before_it_is_read(
    api: tuple[Services, Served], tmp_path: Path
) -> None:
    services, served = api
    (tmp_path / "a.md").write_text("Alpha.\n")
    (tmp_path / "b.md").write_text("Bravo.\n")
    with httpx.Client(base_url=served.url, timeout=10) as client:
        watcher = Watcher(
            Api(client, attempts=1),
            [Root(tmp_path)],
            "notes",
            delete_missing=True,
            out=io.StringIO(),
        )
        watcher.start(catch_up=True)
        watcher.sync()
        await_hash(services, "a.md", file_hash(tmp_path / "a.md", "a.md"))
        watcher.changes.marked = {(0, PurePosixPath("a.md")): "read"}  # modified, then gone
        (tmp_path / "a.md").unlink()
        (tmp_path / "b.md").write_text("Bravo, edited.\n")
        watcher.changes.marked[(0, PurePosixPath("b.md"))] = "read"
        watcher.sync()
    assert stored_hash(services, "a.md") is None  # read as gone: deleted, nothing failed
    assert stored_hash(services, "b.md") == file_hash(tmp_path / "b.md", "b.md")  # went on
    assert watcher.tally.failed == [] and watcher.tally.deleted == 1
