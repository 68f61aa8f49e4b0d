"""The ingest job on a real Redis (a fresh db, flushed) and a real Chroma, run by RQ's
``SimpleWorker`` in burst mode, as in RQ's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import JobStatus

from docqa import wiring
from docqa.adapters.catalog import RedisCatalog
from docqa.adapters.queue import INGEST_JOB, PAYLOAD_PREFIX, IngestQueue
from docqa.core.config import Settings
from docqa.ingest import intake
from docqa.stack.local import Stack
from docqa.stack.processes import free_port
from docqa.worker import jobs
from docqa.worker.main import recover_abandoned
from support.pdfs import make_pdf
from support.stacks import settings_for

DB = 7


@pytest.fixture
def settings(local_stack: Stack) -> Iterator[Settings]:
    settings = settings_for(
        local_stack,
        redis_url=f"redis://127.0.0.1:{local_stack.redis_port}/{DB}",
        queue_name="test-ingest",
        job_retry_intervals_s=[0],
    )
    redis = Redis.from_url(str(settings.redis_url))
    redis.flushdb()
    yield settings
    redis.flushdb()


def parts(settings: Settings) -> tuple[Redis, RedisCatalog, IngestQueue]:
    """The catalog's client, the catalog, and the queue it submits to (on RQ's own client)."""
    redis = wiring.redis_client(settings)
    queue = wiring.ingest_queue(settings, wiring.rq_client(settings))
    return redis, wiring.catalog(redis, queue=queue), queue


def run_burst(settings: Settings, queue: IngestQueue) -> None:
    jobs.preload(settings, "test-worker")
    SimpleWorker([queue.queue], connection=queue.queue.connection).work(burst=True)


def test_a_job_indexes_its_documents(settings: Settings, collection: str) -> None:
    _, catalog, queue = parts(settings)
    document = intake.text_document(
        collection,
        "Owls hunt at night. They can turn their heads far.",
        document_id="owls",
        title=None,
        metadata={},
        max_bytes=1000,
    )
    job_id, _ = intake.accept([document], catalog)
    assert job_id and queue.status(job_id).state == "queued"

    run_burst(settings, queue)
    view = queue.status(job_id)
    assert view.state == "finished" and view.done == view.total > 0
    record = catalog.get(collection, "owls")
    assert record is not None and record.status == "indexed" and record.chunks == view.total


def test_a_permanent_failure_is_not_retried(settings: Settings, collection: str) -> None:
    _, catalog, queue = parts(settings)
    blank = intake.file_document(collection, "blank.pdf", "pdf", make_pdf([""]), metadata={})
    job_id, _ = intake.accept([blank], catalog)
    assert job_id is not None

    run_burst(settings, queue)
    view = queue.status(job_id)
    assert view.state == "failed" and view.retries_left == 0
    assert view.error and "no extractable text" in view.error


def test_a_job_keeps_its_documents_until_it_has_succeeded(
    settings: Settings, collection: str
) -> None:
    redis, catalog, queue = parts(settings)
    text = "Herons stand still in shallow water. They strike fast."
    document = intake.text_document(
        collection, text, document_id="herons", title=None, metadata={}, max_bytes=1000
    )
    blank = intake.file_document(collection, "blank.pdf", "pdf", make_pdf([""]), metadata={})
    done, _ = intake.accept([document], catalog)
    failed, _ = intake.accept([blank], catalog)
    assert done is not None and failed is not None
    payloads = [PAYLOAD_PREFIX + job_id for job_id in (done, failed)]
    for job_id, key in zip((done, failed), payloads, strict=True):
        job = queue.queue.fetch_job(job_id)
        assert job is not None and job.args == (key,)  # RQ keeps no copy of the documents
        assert 0 < redis.ttl(key) <= 30 * 24 * 3600

    run_burst(settings, queue)
    assert queue.status(done).state == "finished" and queue.status(failed).state == "failed"
    assert redis.exists(payloads[0]) == 0  # indexed: the status stays, the documents go
    assert redis.exists(payloads[1]) == 1  # kept for a retry
    fetched = queue.queue.fetch_job(done)
    assert fetched is not None and fetched.args == (payloads[0],)  # its status holds the key


def test_an_unreachable_store_is_retried(settings: Settings, collection: str) -> None:
    down = settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{free_port()}"})
    _, catalog, queue = parts(down)
    document = intake.text_document(
        collection,
        "Text that cannot be stored yet.",
        document_id="later",
        title=None,
        metadata={},
        max_bytes=1000,
    )
    job_id, _ = intake.accept([document], catalog)
    assert job_id is not None

    jobs.preload(down, "test-worker")
    SimpleWorker([queue.queue], connection=queue.queue.connection).work(burst=True, max_jobs=1)
    view = queue.status(job_id)
    assert view.state == "queued" and view.retries_left == settings.job_retries - 1
    assert view.error and "will retry" in view.error
    record = catalog.get(collection, "later")
    assert record is not None and record.status == "queued"  # not lost: waiting for its retry

    run_burst(settings, queue)  # Chroma reachable again: the retry indexes it
    assert queue.status(job_id).state == "finished"
    record = catalog.get(collection, "later")
    assert record is not None and record.status == "indexed"


def test_a_copy_job_enqueued_by_the_previous_release_runs(
    settings: Settings, collection: str
) -> None:
    """A rolling update leaves the previous release's jobs in the queue: its copies said
    ``kind="copy"`` with the source collection in ``data`` (no ``copy_from``)."""
    _, catalog, queue = parts(settings)
    document = intake.text_document(
        collection,
        "Owls hunt at night. " * 200,
        document_id="owls",
        title=None,
        metadata={},
        max_bytes=10_000,
    )
    intake.accept([document], catalog)
    run_burst(settings, queue)
    source = catalog.get(collection, "owls")
    assert source is not None and source.status == "indexed"
    target = collection + "-v2"
    catalog.put([replace(source, collection=target, status="queued", chunks=0)])  # as it did
    old_payload: dict[str, Any] = {  # asdict(PendingDocument) of the previous release, exactly
        "collection": target,
        "id": "owls",
        "content_hash": source.content_hash,
        "kind": "copy",
        "data": collection,
        "title": None,
        "metadata": {},
        "source": "text",
    }
    job = queue.queue.enqueue_call(INGEST_JOB, args=([old_payload],), timeout=600)

    run_burst(settings, queue)
    assert queue.status(job.id).state == "finished", queue.status(job.id)
    store = wiring.chroma_store(settings)
    source_chunks = store.chunks(collection, "owls")
    assert len(source_chunks) > 1 and store.chunks(target, "owls") == source_chunks
    record = catalog.get(target, "owls")
    assert record is not None and record.status == "indexed"


def test_jobs_of_a_dead_worker_are_requeued_by_its_successor(
    settings: Settings, collection: str
) -> None:
    redis, catalog, queue = parts(settings)
    document = intake.text_document(
        collection, "Cut off half-way.", document_id="cut", title=None, metadata={}, max_bytes=100
    )
    job_id, _ = intake.accept([document], catalog)
    assert job_id is not None
    worker = SimpleWorker([queue.queue], connection=redis, name="crashed")
    job = queue.queue.dequeue_any([queue.queue], timeout=None, connection=redis)
    assert job is not None
    worker.prepare_execution(job[0])  # what a worker does before running a job: now "started"
    worker.prepare_job_execution(job[0])
    assert queue.status(job_id).state == "started"

    assert recover_abandoned(queue.queue, "someone-else") == []
    assert recover_abandoned(queue.queue, "crashed") == [job_id]
    fetched = queue.queue.fetch_job(job_id)
    assert fetched is not None and fetched.get_status() == JobStatus.QUEUED
    run_burst(settings, queue)
    assert queue.status(job_id).state == "finished"
