"""The ports of the queues: the ingest jobs as the API reports them (with the documents a job
holds, for ``docqa check``), and ``docqa check`` run by a worker as a job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from docqa.core.models import JobView, PendingDocument


class JobQueue(Protocol):
    """The ingest jobs, as the API reports them (jobs are enqueued by ``Catalog.submit``)."""

    def status(self, job_id: str) -> JobView:
        """Raise ``NotFound`` for a job that does not exist (or has expired)."""
        ...

    def counts(self) -> dict[str, int]:
        """Jobs in each state ("queued": the queue's depth)."""
        ...


# What ``docqa check`` (ingest/consistency.py) reads besides: the documents a job holds.


@runtime_checkable
class PayloadQueue(JobQueue, Protocol):
    def documents(self, job_id: str) -> list[PendingDocument] | None:
        """The documents job ``job_id`` indexes, while the queue keeps them (None after)."""
        ...


# --- ``docqa check`` run by a worker as a job (``POST /admin/checks``) ---

CheckState = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True)
class CheckView:
    """A check as an operator sees it: its state, where it has got to (``stage``: what it reads
    now, such as "docs: catalog"), and once done its report (``ingest.check_report``)."""

    id: str
    state: CheckState
    collections: list[str] | None  # None: every collection
    repair: bool
    stage: str
    done: int
    total: int | None  # None: not known ahead (a store's listing)
    report: dict[str, Any] | None  # once done
    error: str | None  # once failed
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class CheckRuns(Protocol):
    """Checks queued for the worker, their progress and reports kept a while in the queue's
    Redis. An outage is ``Unavailable``."""

    def start(
        self, collections: list[str] | None, repair: bool, request_id: str | None = None
    ) -> CheckView: ...

    def status(self, check_id: str) -> CheckView:
        """Raise ``NotFound`` for an id that names no check (or one whose report expired)."""
        ...
