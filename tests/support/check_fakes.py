"""A fake ``CheckRuns`` (``support.check_fakes``): the checks ``POST /admin/checks`` queued, kept
in memory, "queued" until a test runs them (``run_all``) through the real check
(``ingest.check_report``) on the stores it is given, as the worker's job would."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from docqa.core import ports
from docqa.core.errors import DocqaError, NotFound
from docqa.core.ports import CheckView
from docqa.ingest import check_report
from docqa.ingest.consistency import Stores
from support.fakes import _Switch


class FakeCheckRuns(_Switch):
    service = "redis"

    def __init__(self) -> None:
        self.views: dict[str, CheckView] = {}
        self.waiting: list[str] = []
        self.request_ids: dict[str, str | None] = {}

    def start(
        self, collections: list[str] | None, repair: bool, request_id: str | None = None
    ) -> CheckView:
        self._serve()
        check_id = uuid.uuid4().hex
        view = CheckView(
            check_id, "queued", collections, repair, "", 0, None, None, None, _now(), None, None
        )
        self.views[check_id] = view
        self.waiting.append(check_id)
        self.request_ids[check_id] = request_id
        return view

    def status(self, check_id: str) -> CheckView:
        self._serve()
        if check_id not in self.views:
            raise NotFound(f"check {check_id!r} does not exist (or its report has expired)")
        return self.views[check_id]

    def run_all(self, stores: Stores) -> None:
        """Run every queued check, oldest first, recording its report or its error."""
        while self.waiting:
            check_id = self.waiting.pop(0)
            view = replace(self.views[check_id], state="running", started_at=_now())
            try:
                report = check_report.run(stores, view.collections, repair=view.repair)
            except DocqaError as exc:
                ended = replace(view, state="failed", error=exc.detail, ended_at=_now())
            else:
                ended = replace(view, state="done", report=report.to_json(), ended_at=_now())
            self.views[check_id] = ended


def _now() -> datetime:
    return datetime.now(UTC)


_checks: ports.CheckRuns = FakeCheckRuns()
