"""The ingest job function (``docqa.worker.jobs.ingest``) on fakes: what the API enqueues is
indexed, and jobs left in the queue by the previous release still run after an upgrade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docqa.core.models import PendingDocument
from docqa.ingest import intake
from docqa.wiring import Services
from docqa.worker import jobs
from support.fakes import FakeQueue, fake_services

TEXT = "Owls hunt at night. They turn their heads far round. " * 20


@pytest.fixture
def services() -> Iterator[Services]:
    made = fake_services()
    jobs.use(made)
    yield made
    jobs.use(None)


def run_queued(services: Services) -> list[dict[str, object]]:
    """Run every job the fake queue holds through the real job function, as RQ would."""
    assert isinstance(services.queue, FakeQueue)
    results = []
    while (job := services.queue.take()) is not None:
        results.append(jobs.ingest([document.to_job() for document in job.documents]))
    return results


def index_owls(services: Services, collection: str = "old") -> None:
    document = intake.text_document(
        collection, TEXT, document_id="owls", title="Owls", metadata={"k": 1}, max_bytes=10_000
    )
    intake.accept([document], services.catalog)
    run_queued(services)


def test_a_job_indexes_what_the_api_accepted(services: Services) -> None:
    index_owls(services)
    record = services.catalog.get("old", "owls")
    stored = services.store.chunks("old", "owls")
    assert record is not None and record.status == "indexed"
    assert record.chunks == len(stored) > 1  # 64-token chunks of ~220 words


def test_a_copy_is_queued_with_copy_from_and_keeps_every_chunk_id(services: Services) -> None:
    index_owls(services)
    copied = intake.copy_collection("old", "new", services.catalog)
    assert copied.queued == 1 and copied.skipped == 0 and len(copied.jobs) == 1
    assert isinstance(services.queue, FakeQueue)
    (document,) = services.queue.jobs[copied.jobs[0]].documents
    assert document.copy_from == "old" and document.data == ""
    run_queued(services)
    assert [i for i, _ in services.store.chunks("new", "owls")] == [
        i for i, _ in services.store.chunks("old", "owls")
    ]
    again = intake.copy_collection("old", "new", services.catalog)
    assert again.queued == 0 and again.jobs == []  # already copied: nothing queued


def test_a_copy_job_of_the_previous_release_still_runs(services: Services) -> None:
    """Before ``copy_from``, a copy said ``kind="copy"`` with the source collection in
    ``data``; a rolling update leaves such jobs in the queue for the new worker."""
    index_owls(services)
    source = services.catalog.get("old", "owls")
    assert source is not None
    copy = PendingDocument(collection="new", id="owls", content_hash=source.content_hash)
    intake.accept([copy], services.catalog)  # the record the old API wrote with its job
    assert isinstance(services.queue, FakeQueue)
    services.queue.waiting.clear()  # run the old payload below instead of the new one
    old_payload = {  # asdict(PendingDocument) of the previous release, exactly
        "collection": "new",
        "id": "owls",
        "content_hash": source.content_hash,
        "kind": "copy",
        "data": "old",
        "title": "Owls",
        "metadata": {"k": 1},
        "source": "text",
    }

    result = jobs.ingest([old_payload])

    stored = services.store.chunks("new", "owls")
    assert result["indexed"] == {"owls": len(stored)} and len(stored) > 1
    assert [c for _, c in stored] == [c for _, c in services.store.chunks("old", "owls")]
    record = services.catalog.get("new", "owls")
    assert record is not None and record.status == "indexed"


def test_payloads_round_trip_and_text_jobs_keep_the_old_shape() -> None:
    text = PendingDocument(collection="c", id="d", content_hash="h", data="words")
    copy = PendingDocument(collection="c", id="d", content_hash="h", copy_from="src")
    assert "copy_from" not in text.to_job()  # a worker of the previous release can run it
    assert PendingDocument.from_job(text.to_job()) == text
    assert PendingDocument.from_job(copy.to_job()) == copy
