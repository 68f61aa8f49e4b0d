"""User feedback on search results (``POST /feedback``), kept in Redis for fine-tuning.

One Redis stream per collection (``docqa:feedback:<collection>``), one entry per record, its
JSON in the field ``record``. A record carries the texts of the chunks it marks, as they were
when it was given, so pairs exported later do not change when documents are re-indexed.
Nothing is trimmed: feedback is small and each record is training data. A Redis outage is
``Unavailable(service="redis")`` (``adapters._redis``).
"""

from __future__ import annotations

from typing import Any

from redis import Redis

from docqa.adapters import _redis
from docqa.core.models import FeedbackRecord, MarkedChunk

__all__ = ["FeedbackRecord", "MarkedChunk", "RedisFeedbackLog"]

PREFIX = "docqa:feedback:"
PAGE = 500  # entries per XRANGE call


class RedisFeedbackLog:
    """Appends feedback records and reads a collection's back, oldest first."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @_redis.guarded()
    def append(self, record: FeedbackRecord) -> None:
        self._redis.xadd(PREFIX + record.collection, {"record": record.to_json()})

    @_redis.guarded()
    def read(self, collection: str) -> list[FeedbackRecord]:
        records: list[FeedbackRecord] = []
        start = "-"
        while True:
            entries: Any = self._redis.xrange(PREFIX + collection, start, "+", count=PAGE)
            for _, fields in entries:
                raw = fields.get(b"record", fields.get("record"))
                records.append(FeedbackRecord.from_json(raw))
            if len(entries) < PAGE:
                return records
            last = entries[-1][0]
            start = "(" + (last.decode() if isinstance(last, bytes) else str(last))
