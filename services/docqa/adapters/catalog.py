"""The document catalog: one record per accepted document, kept in Redis.

It is what makes "no accepted document is ever lost" checkable: a record is written when the
API accepts a document (status ``queued``) and moved to ``indexed`` or ``failed`` by the job,
only if the record still describes the same content (a newer post of the same id wins).

Keys: ``docqa:doc:<collection>:<id>`` (JSON record), ``docqa:docs:<collection>`` (sorted set of
ids by creation time, for pagination).

Every method meets a Redis outage (refused, reset, timed out) as ``Unavailable(service="redis")``
(``adapters._redis``), the lock's renewal included; ``ResponseError`` (a bug) is not mapped.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import LockError
from redis.lock import Lock

from docqa.adapters import _redis
from docqa.adapters.queue import IngestQueue
from docqa.core.errors import Unavailable
from docqa.core.models import DocumentRecord, IngestJob

log = logging.getLogger(__name__)

LOCK_PREFIX = "docqa:lock:"
LOCK_TTL_S = 60


def _doc_key(collection: str, document_id: str) -> str:
    return f"docqa:doc:{collection}:{document_id}"


def _index_key(collection: str) -> str:
    return f"docqa:docs:{collection}"


class RedisCatalog:
    """``ports.Catalog``; ``queue`` is where ``submit`` enqueues, in the records' transaction
    (RQ writes a job with the pipeline it is given, so a client of its own is fine)."""

    def __init__(self, redis: Redis, owner: str = "api", queue: IngestQueue | None = None) -> None:
        self._redis = redis
        self._owner = owner
        self._queue = queue

    @_redis.guarded()
    def get(self, collection: str, document_id: str) -> DocumentRecord | None:
        raw = self._redis.get(_doc_key(collection, document_id))
        return DocumentRecord(**json.loads(raw)) if raw else None

    @_redis.guarded()
    def put(self, records: list[DocumentRecord], pipeline: Pipeline | None = None) -> None:
        """Write records (in the caller's transaction when given one)."""
        now = time.time()
        pipe = pipeline if pipeline is not None else self._redis.pipeline()
        for record in records:
            record.updated_at = now
            record.created_at = record.created_at or now
            pipe.set(_doc_key(record.collection, record.id), json.dumps(asdict(record)))
            pipe.zadd(_index_key(record.collection), {record.id: record.created_at}, nx=True)
        if pipeline is None:
            pipe.execute()

    @_redis.guarded()
    def get_many(self, collection: str, document_ids: list[str]) -> dict[str, DocumentRecord]:
        """The records found among ``document_ids``, by id (one MGET)."""
        if not document_ids:
            return {}
        raws = self._redis.mget([_doc_key(collection, i) for i in document_ids])
        found = zip(document_ids, raws, strict=True)
        return {i: DocumentRecord(**json.loads(raw)) for i, raw in found if raw}

    @_redis.guarded()
    def submit(self, records: list[DocumentRecord], job: IngestJob) -> None:
        """Write the records and enqueue their job in one MULTI/EXEC: both or neither."""
        if self._queue is None:
            raise RuntimeError("this catalog was built without a queue to submit jobs to")
        with self._redis.pipeline(transaction=True) as pipe:
            # RQ may WATCH first; the request's id goes with the job, into the worker's logs.
            self._queue.enqueue(
                job.documents, job_id=job.id, pipeline=pipe, request_id=job.request_id
            )
            self.put(records, pipeline=pipe)
            pipe.execute()

    def check(self) -> None:
        """Raise ``Unavailable`` when Redis does not answer."""
        with _redis.reachable():
            self._redis.ping()

    @contextmanager
    def lock(self, collection: str, document_id: str) -> Iterator[RedisLease]:
        """Held while a document is indexed or deleted, so the two never interleave.

        It expires ``LOCK_TTL_S`` after it was last renewed (``reacquire()``, once per batch),
        and its token names its owner, so a worker restarted after a crash frees its
        predecessor's locks at once (``release_locks_of``) instead of waiting for them to expire.
        Redis lost while releasing it is logged, not raised: the work under it is done, and the
        lock expires by itself. Its token is not thread-local: the indexing pipeline takes it in
        one thread and renews and frees it in another (``ingest.indexing``).
        """
        lock = self._redis.lock(
            LOCK_PREFIX + f"{collection}:{document_id}",
            timeout=LOCK_TTL_S,
            blocking_timeout=2 * LOCK_TTL_S,
            thread_local=False,  # the pipelined worker renews and frees it from another thread
        )
        with _redis.reachable():
            acquired = lock.acquire(token=f"{self._owner}:{uuid.uuid4().hex}")
        if not acquired:
            raise Unavailable(f"document {document_id!r} is busy; try again", service="redis")
        try:
            yield RedisLease(lock)
        finally:
            try:
                lock.release()
            except LockError:  # expired (or released) already: nothing to free
                pass
            except _redis.OUTAGES as exc:
                log.warning("lock %s not released (it expires by itself): %s", lock.name, exc)

    @_redis.guarded()
    def release_locks_of(self, owner: str) -> int:
        """Drop the document locks held by ``owner`` (a worker that died holding them)."""
        released = 0
        for key in self._redis.scan_iter(match=LOCK_PREFIX + "*", count=1000):
            token = self._redis.get(key)
            if token and _text(token).startswith(owner + ":"):
                released += int(self._redis.delete(key))
        return released

    @_redis.guarded()
    def update(self, collection: str, document_id: str, content_hash: str, **changes: Any) -> bool:
        """Change fields of a record if it still has ``content_hash``; False when superseded."""
        key = _doc_key(collection, document_id)

        def apply(pipe: Pipeline) -> bool:
            raw = pipe.get(key)
            if not raw:
                return False
            record = json.loads(raw)
            if record["content_hash"] != content_hash:
                return False
            record.update(changes, updated_at=time.time())
            pipe.multi()
            pipe.set(key, json.dumps(record))
            return True

        return bool(self._redis.transaction(apply, key, value_from_callable=True))  # type: ignore[arg-type]

    @_redis.guarded()
    def delete(self, collection: str, document_id: str) -> None:
        with self._redis.pipeline() as pipe:
            pipe.delete(_doc_key(collection, document_id))
            pipe.zrem(_index_key(collection), document_id)
            pipe.execute()

    @_redis.guarded()
    def collections(self) -> list[str]:
        """The collections that hold at least one record (``docqa check``)."""
        prefix = _index_key("")
        keys = self._redis.scan_iter(match=prefix + "*", count=1000)
        return sorted(_text(key)[len(prefix) :] for key in keys)

    @_redis.guarded()
    def page(self, collection: str, offset: int, limit: int) -> tuple[list[DocumentRecord], int]:
        """A page of records, oldest first, and the total count."""
        index = _index_key(collection)
        ids = [_text(raw) for raw in self._redis.zrange(index, offset, offset + limit - 1)]
        total = int(self._redis.zcard(index))
        if not ids:
            return [], total
        raws = self._redis.mget([_doc_key(collection, i) for i in ids])
        return [DocumentRecord(**json.loads(raw)) for raw in raws if raw], total


class RedisLease:
    """A held document lock (``ports.Lease``)."""

    def __init__(self, lock: Lock) -> None:
        self._lock = lock

    @_redis.guarded()
    def reacquire(self) -> bool:
        """Renew the lock's expiry to ``LOCK_TTL_S`` from now."""
        return bool(self._lock.reacquire())


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)
