"""Runs ``docqa check`` with its repairs and makes its report: one shape for the command's
``--json`` output and for a check the worker ran (``GET /admin/checks/{id}``).

A report's line is a difference (``Difference.to_json``) with what its repair did
(``"repair"``; null when not repairing); its summary is ``Summary.to_json``, the repairs
counted by kind. The command prints each line as it is found (``{"difference": line}``),
then ``{"summary": ...}``; a check run as a job keeps the first ``LISTED`` lines
(``{"summary": ..., "differences": [...]}``), so that what Redis keeps of it stays bounded at
a million chunks, while its summary counts every difference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from docqa.ingest.consistency import Progress, Stores, check
from docqa.ingest.differences import Difference, Summary
from docqa.ingest.repair import repair as repair_one

LISTED = 1000  # lines a job's report keeps

Line = dict[str, Any]


@dataclass
class Report:
    summary: Summary
    differences: list[Line] = field(default_factory=list)  # the first ``LISTED`` lines

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary.to_json(), "differences": self.differences}


def run(
    stores: Stores,
    collections: Sequence[str] | None,
    *,
    repair: bool,
    on_line: Callable[[Line], None] = lambda _: None,
    progress: Progress = lambda *_: None,
    keep: int = LISTED,
) -> Report:
    """Check ``collections`` (default: every one), repairing each difference when ``repair``;
    ``on_line`` is called with each line as it is found, and the report keeps ``keep`` of them.
    A store that cannot be reached raises ``Unavailable`` (repairs done so far stay done)."""
    repaired: Counter[str] = Counter()
    kept: list[Line] = []

    def found(difference: Difference) -> int:
        line: Line = difference.to_json() | {"repair": None}
        deleted = 0
        if repair:
            done = repair_one(stores, difference)
            line["repair"] = done.action
            deleted = done.deleted
            if done.done:
                repaired[difference.kind] += 1
        if len(kept) < keep:
            kept.append(line)
        on_line(line)
        return deleted

    summary = check(stores, collections, found, progress)
    summary.repaired = repaired
    return Report(summary, kept)
