"""Keeps an indexing run's report and progress, and the document locks it holds, across threads.

The indexing pipeline's stages (``ingest.stages``) run in threads of their own; each change to
the report goes through ``Tally`` (one lock), and the locks of every group between planning
and writing are kept in ``Holds``, which renews them and frees them all when a run stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from docqa.core.ports import Lease

Progress = Callable[[int, int], None]

# A lock not renewed for this long is renewed at the next batch written, whatever its group
# (the catalog's locks expire 60 s after their last renewal).
RENEW_AFTER_S = 10.0


@dataclass
class IndexReport:
    indexed: dict[str, int] = field(default_factory=dict)  # document id -> chunk count
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # document id -> reason
    embedded: int = 0
    done: int = 0  # chunks embedded now or found already stored


class Tally:
    """``IndexReport`` changed under one lock; ``progress(done, total)`` reported once the
    total is known (every document chunked: until then a job's total stays 0, as the API says),
    and never with ``done`` going back."""

    def __init__(self, progress: Progress) -> None:
        self.report = IndexReport()
        self._progress = progress
        self._lock = threading.Lock()
        self._total: int | None = None
        self._reported = -1

    def skipped(self, document_id: str, chunks: int = 0) -> None:
        with self._lock:
            self.report.skipped.append(document_id)
            self.report.done += chunks
            self._tick()

    def failed(self, document_id: str, reason: str) -> None:
        with self._lock:
            self.report.failed[document_id] = reason

    def done(self, chunks: int, *, embedded: int = 0) -> None:
        with self._lock:
            self.report.done += chunks
            self.report.embedded += embedded
            self._tick()

    def indexed(self, document_id: str, chunks: int) -> None:
        with self._lock:
            self.report.indexed[document_id] = chunks

    def total(self, chunks: int) -> None:
        """Every document is chunked: the job's total is known."""
        with self._lock:
            self._total = chunks
            self._tick()

    def finished(self) -> None:
        with self._lock:
            total = self._total or 0
            self._progress(total, total)

    def _tick(self) -> None:
        if self._total is not None and self.report.done >= self._reported:
            self._reported = self.report.done
            self._progress(self.report.done, self._total)


@dataclass
class Held:
    """A planned group's locks, held from before its stored chunks are read until it is written."""

    locks: ExitStack
    leases: list[Lease]
    renewed_at: float = field(default_factory=time.monotonic)

    def renew(self) -> None:
        for lease in self.leases:
            lease.reacquire()
        self.renewed_at = time.monotonic()


class Holds:
    """The locks of every group planned and not yet written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[Held] = []

    def add(self, held: Held) -> None:
        with self._lock:
            self._held.append(held)

    def release(self, held: Held) -> None:
        with self._lock:
            self._held.remove(held)
        held.locks.close()

    def renew(self, *current: Held) -> None:
        """Renew ``current``'s locks (the groups just written, as one group's always were after
        each batch), and those of groups waiting in the queues not renewed for ``RENEW_AFTER_S``."""
        for held in current:
            held.renew()
        with self._lock:
            waiting = [h for h in self._held if all(h is not c for c in current)]
        due = time.monotonic() - RENEW_AFTER_S
        for held in waiting:
            if held.renewed_at < due:
                held.renew()

    def release_all(self) -> None:
        """Free every lock still held (a run stopped by a failure); the first error frees
        what it can, then is raised."""
        with self._lock:
            held, self._held = self._held, []
        with ExitStack() as all_of_them:
            for one in held:
                all_of_them.callback(one.locks.close)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)
