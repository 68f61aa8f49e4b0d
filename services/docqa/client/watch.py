"""``docqa ingest PATH --watch``: after the first pass, follow the folders (``watchfiles``) and
send what changed, until Ctrl-C.

Events are debounced and marked per file (``changes.Changes``); a marked file is read again
and sent only when its content hash (``identity``'s rule, as the server computes it) differs
from the one stored; a file or folder that disappears has its documents deleted with
``--delete-missing`` (never when a whole root vanished). When the API is away (a connection
error, 429, 502-504) the work stays marked and is tried again with back-off (1 s doubling to
60 s), so nothing is lost and the watcher catches up when it is back. A status line says what
was done and how long the last change took from its save to being indexed.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TextIO, TypeVar

import httpx
import watchfiles

from docqa.client import plan, sources
from docqa.client.changes import Changes, Mark, Where
from docqa.client.sources import Document, Failure, Root
from docqa.client.transport import Api, reason

T = TypeVar("T")
AWAY = (429, 502, 503, 504)
FIRST_BACKOFF_S, MAX_BACKOFF_S = 1.0, 60.0


class Away(Exception):
    """The API did not answer (or answered that it cannot now): try again later."""


@dataclass
class Tally:
    sent: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    latency_s: float | None = None  # the last change's save to indexed
    state: str = "starting"


class Watcher:
    def __init__(
        self,
        api: Api,
        roots: list[Root],
        collection: str,
        *,
        glob: str | None = None,
        delete_missing: bool = False,
        out: TextIO = sys.stderr,
    ) -> None:
        self.api = api
        self.collection = collection
        self.delete_missing = delete_missing
        self.changes = Changes(roots, glob)
        self.known: dict[str, str] = {}  # id -> content hash, as stored
        self.jobs: dict[str, float] = {}  # job id -> the newest save (mtime) it carries
        self.tally = Tally()
        self.out = out
        self.retry_at = 0.0
        self.backoff_s = FIRST_BACKOFF_S
        self._shown = ""

    def start(self, catch_up: bool = False) -> None:
        """What is stored, and the ids each local file holds (``Away`` when the API is); with
        ``catch_up`` (the first pass did not run) every file is marked to be read and sent
        if it changed."""
        stored = self._call(lambda: list(self.api.stored(self.collection)))
        self.known = {i: h for i, h, status in stored if status in plan.STORED}
        for n, root in enumerate(self.changes.roots):
            for relative in sources.files(root, self.changes.glob, self.tally.failed):
                where = (n, relative)
                if relative.suffix.lower() in sources.RECORD_FILES:
                    docs = sources.read(root, relative)
                    self.changes.ids_of[where] = {d.id for d in docs if isinstance(d, Document)}
                else:
                    self.changes.ids_of[where] = {root.prefix + str(relative)}
                if catch_up:
                    self.changes.marked[where] = "read"

    def _call(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except httpx.TransportError as exc:
            raise Away(f"not reachable ({type(exc).__name__})") from exc

    def sync(self) -> None:
        """Do the marked work; on ``Away`` keep what is left marked and back off."""
        marked = self.changes.take()
        items = list(marked.items())
        try:
            while items:
                where, mark = items[0]
                self._do(where, mark)
                items.pop(0)
            self.backoff_s = FIRST_BACKOFF_S
            self.tally.state = "up to date"
        except Away as exc:
            for where, mark in items:
                self.changes.keep(where, mark)
            self.retry_at = time.monotonic() + self.backoff_s
            self.tally.state = f"API away ({exc}); retrying in {self.backoff_s:.0f} s"
            self.backoff_s = min(self.backoff_s * 2, MAX_BACKOFF_S)

    def _do(self, where: Where, mark: Mark) -> None:
        old = self.changes.ids_of.get(where, set())
        if mark == "gone":
            self._delete(where, old, set())
            return
        root = self.changes.roots[where[0]]
        docs: list[Document] = []
        for item in sources.read(root, where[1]):
            if isinstance(item, Failure):
                if not self.changes.path(where).exists():  # vanished while read
                    self._delete(where, old, set())
                    return
                self.tally.failed.append(item)
                self._say(f"failed {item.where}: {item.reason}")
            else:
                docs.append(item)
        changed = [d for d in docs if self.known.get(d.id) != d.content_hash]
        self.tally.unchanged += len(docs) - len(changed)
        saved = self.changes.path(where).stat().st_mtime if changed else 0.0
        for batch in plan.batches(changed):
            self._send(batch, saved)
        self._delete(where, old, {d.id for d in docs})

    def _send(self, batch: list[Document], saved: float) -> None:
        response = self._call(lambda: self.api.post(self.collection, batch))
        if response.status_code in AWAY:
            raise Away(reason(response))
        if response.status_code != 202:
            for d in batch:
                self.tally.failed.append(Failure(d.id, reason(response)))
                self._say(f"failed {d.id}: {reason(response)}")
            return
        body = response.json()
        for d in batch:
            self.known[d.id] = d.content_hash
        self.tally.sent += len(batch)
        if body["job_id"]:
            self.jobs[body["job_id"]] = max(saved, self.jobs.get(body["job_id"], 0.0))

    def _delete(self, where: Where, old: set[str], now: set[str]) -> None:
        """Forget ids no longer in the file; delete them with ``--delete-missing``."""
        gone = old - now
        if gone and self.delete_missing and self.changes.root_missing(where):
            self._say(f"root {self.changes.roots[where[0]].path} is missing: nothing deleted")
            return
        for document_id in sorted(gone):
            if self.delete_missing:
                response = self._call(partial(self.api.delete, self.collection, document_id))
                if response.status_code in AWAY:
                    raise Away(reason(response))
                if response.status_code not in (204, 404):
                    self.tally.failed.append(Failure(document_id, reason(response)))
                    continue
                self.tally.deleted += 1
            self.known.pop(document_id, None)
            self.changes.ids_of.setdefault(where, set()).discard(document_id)
        if now:
            self.changes.ids_of[where] = now
        elif not self.changes.ids_of.get(where):
            self.changes.ids_of.pop(where, None)

    def poll_jobs(self) -> None:
        """The jobs sent: when one has ended, how long after its newest save."""
        for job_id, saved in list(self.jobs.items()):
            try:
                job = self.api.job(job_id)
            except (httpx.TransportError, RuntimeError):
                return  # the API is away: asked again on the next tick
            if job["state"] in ("finished", "failed"):
                del self.jobs[job_id]
                self.tally.latency_s = time.time() - saved
                if job["state"] == "failed":
                    self.tally.failed.append(Failure(f"job {job_id}", str(job["error"])))

    def status(self) -> str:
        t = self.tally
        line = (
            f"watching: {t.sent} sent, {t.deleted} deleted, {t.unchanged} unchanged, "
            f"{len(t.failed)} failed, {len(self.changes.marked)} waiting"
            + (f", {len(self.jobs)} indexing" if self.jobs else "")
            + (f"; last change indexed {t.latency_s:.1f} s after its save" if t.latency_s else "")
            + f" - {t.state}"
        )
        if line != self._shown:
            self._shown = line
            self.out.write(("\r\x1b[K" if self.out.isatty() else "") + line)
            self.out.write("" if self.out.isatty() else "\n")
            self.out.flush()
        return line

    def _say(self, line: str) -> None:
        self.out.write(("\r\x1b[K" if self.out.isatty() else "") + line + "\n")
        self._shown = ""


def follow(
    watcher: Watcher,
    stop: threading.Event | None = None,
    debounce_ms: int = 400,
    catch_up: bool = False,
) -> Tally:
    """Watch until ``stop`` is set or Ctrl-C; returns what was done. ``catch_up``: the first
    pass did not run (the API was away), so every file is compared once it is back."""
    paths = [root.path for root in watcher.changes.roots]
    try:
        while True:  # the first look at what is stored, waiting for the API if it is away
            try:
                watcher.start(catch_up)
                break
            except Away as exc:
                watcher.tally.state = f"API away ({exc}); retrying"
                watcher.status()
                stopping = stop or threading.Event()  # Ctrl-C interrupts the wait all the same
                if stopping.wait(watcher.backoff_s):
                    return watcher.tally
                watcher.backoff_s = min(watcher.backoff_s * 2, MAX_BACKOFF_S)
        watcher.tally.state = "up to date"
        watcher.status()
        for events in watchfiles.watch(
            *paths,
            debounce=debounce_ms,
            stop_event=stop,
            rust_timeout=500,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            watcher.changes.seen(events, watcher.tally.failed)
            if watcher.changes.marked and time.monotonic() >= watcher.retry_at:
                watcher.sync()
            watcher.poll_jobs()
            watcher.status()
    except KeyboardInterrupt:
        pass
    return watcher.tally
