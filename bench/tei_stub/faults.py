"""What the TEI stand-in is told to fail for a while, and what it has served (not part of TEI).

``POST /_faults {"statuses": [429, 503], "for_s": 8}`` makes ``/embed`` (or the routes in
``"paths"``) answer those statuses in turn for ``for_s`` seconds; ``"retry_after_s"`` adds a
``Retry-After``. ``{"for_s": 0}`` ends them. ``GET /_faults`` gives the counters; ``DELETE
/_faults`` ends the faults and zeroes the counters. Stdlib only, thread-safe."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

FAULT_BODIES = {
    429: ("Model is overloaded", "Overloaded"),
    503: ("unhealthy", "Unhealthy"),
    424: ("Inference failed", "Backend"),
    413: ("Batch size error", "Validation"),
}


class Faults:
    """What the stand-in is told to fail, and what it has served. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.statuses: list[int] = []
            self.paths: set[str] = {"/embed"}
            self.until = 0.0
            self.retry_after_s: float | None = None
            self.next = 0
            self.faults: Counter[int] = Counter()
            self.embeds = 0
            self.embedded = 0
            self.tokenizes = 0
            self.reranks = 0

    def set(self, body: dict[str, Any]) -> None:
        statuses = [int(s) for s in body.get("statuses", [429, 503])]
        if any(not 400 <= s <= 599 for s in statuses):
            raise ValueError(f"statuses must be 4xx or 5xx, not {statuses}")
        for_s = float(body.get("for_s", 0))
        with self._lock:
            self.statuses = statuses
            self.paths = set(body.get("paths", ["/embed"]))
            self.until = time.monotonic() + for_s if statuses and for_s > 0 else 0.0
            retry_after = body.get("retry_after_s")
            self.retry_after_s = float(retry_after) if retry_after is not None else None
            self.next = 0

    def take(self, path: str) -> int | None:
        """The status to fail this request with, or None to serve it."""
        with self._lock:
            if path not in self.paths or not self.statuses or time.monotonic() >= self.until:
                return None
            status = self.statuses[self.next % len(self.statuses)]
            self.next += 1
            self.faults[status] += 1
            return status

    def served(self, path: str, texts: int) -> None:
        with self._lock:
            if path == "/embed":
                self.embeds += 1
                self.embedded += texts
            elif path == "/rerank":
                self.reranks += 1
            else:
                self.tokenizes += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            remaining = max(0.0, self.until - time.monotonic())
            return {
                "active": remaining > 0,
                "statuses": self.statuses,
                "paths": sorted(self.paths),
                "remaining_s": round(remaining, 3),
                "faults": {str(status): n for status, n in sorted(self.faults.items())},
                "embeds": self.embeds,
                "embedded": self.embedded,
                "tokenizes": self.tokenizes,
                "reranks": self.reranks,
            }
