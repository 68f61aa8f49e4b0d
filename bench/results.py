"""What a measurement reports, and how the reports are shown and stored (pure, no I/O but
``write_json``)."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Metric:
    """One figure. ``raw`` is the in-process reference for the same figure (same unit), when
    there is one; ``ratio`` is then service / raw."""

    name: str
    value: float | None
    unit: str
    raw: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.raw:
            return None
        return self.value / self.raw


@dataclass
class Result:
    """One measurement: its figures, the parameters it ran with, and its raw samples."""

    name: str
    metrics: list[Metric] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float | None, unit: str, raw: float | None = None) -> None:
        self.metrics.append(Metric(name, value, unit, raw))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "metrics": [{**asdict(m), "ratio": m.ratio} for m in self.metrics],
            "samples": self.samples,
            "notes": self.notes,
        }


def percentiles(samples: Iterable[float], points: Sequence[float] = (50, 95)) -> dict[float, float]:
    """Percentiles by linear interpolation between closest ranks (numpy's default method).

    ``percentiles([1, 2, 3, 4], (50,))`` is ``{50: 2.5}``. Raises ``ValueError`` on no samples
    or a point outside 0..100.
    """
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("percentiles of no samples")
    out: dict[float, float] = {}
    for point in points:
        if not 0 <= point <= 100:
            raise ValueError(f"percentile {point} is outside 0..100")
        rank = (len(ordered) - 1) * point / 100
        low, high = math.floor(rank), math.ceil(rank)
        out[point] = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return out


def format_number(value: float | None) -> str:
    """Three significant figures at least, thousands separated; ``-`` for no value."""
    if value is None or math.isnan(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [len(cell) for cell in header]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row {list(row)} has {len(row)} cells, the header {len(header)}")
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


HEADER = ("metric", "service", "raw", "service/raw")


def render(results: Sequence[Result]) -> str:
    """All results as one table, a row per metric, grouped by measurement."""
    rows: list[list[str]] = []
    for result in results:
        for metric in result.metrics:
            rows.append(
                [
                    f"{result.name}: {metric.name} ({metric.unit})",
                    format_number(metric.value),
                    format_number(metric.raw),
                    "-" if metric.ratio is None else f"{metric.ratio:.2f}x",
                ]
            )
    return format_table(HEADER, rows)


def machine() -> dict[str, Any]:
    """Where the figures were taken."""
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "usable_cores": len(affinity(0)) if affinity else os.cpu_count(),
        "python": sys.version.split()[0],
        "load_average": load_average(),
    }


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    getloadavg = getattr(os, "getloadavg", None)
    return [round(load, 2) for load in getloadavg()] if getloadavg else None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def describe(info: dict[str, Any], date: str) -> str:
    return (
        f"{date}  {info['platform']}  {info['usable_cores']} cores "
        f"(of {info['cpu_count']})  Python {info['python']}  load {info['load_average']}"
    )


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
