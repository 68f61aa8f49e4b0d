"""The check job function (``docqa.worker.jobs.check``) on the listed fakes: its report is
``docqa check``'s (``ingest.check_report``), it repairs when asked, and a part that cannot list
itself fails it with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from docqa.core.errors import Unavailable
from docqa.ingest import check_report, intake
from docqa.ingest.differences import KINDS, Summary
from docqa.wiring import Services, check_stores
from docqa.worker import jobs
from support.fakes import FakeQueue, fake_services
from support.listed_fakes import ListedCatalog, ListedKeywords, ListedStore, PayloadQueue

C = "docs"
TEXT = "Owls hunt at night. They turn their heads far round. " * 20


@pytest.fixture
def services() -> Iterator[Services]:
    queue = PayloadQueue()
    made = fake_services(
        queue=queue, store=ListedStore(), keywords=ListedKeywords(), catalog=ListedCatalog(queue)
    )
    jobs.use(made)
    yield made
    jobs.use(None)


def ingest(services: Services, *names: str) -> None:
    documents = [
        intake.text_document(
            C, f"{name}: {TEXT}", document_id=name, title=None, metadata={}, max_bytes=10_000
        )
        for name in names
    ]
    intake.accept(documents, services.catalog)
    assert isinstance(services.queue, FakeQueue)
    while (job := services.queue.take()) is not None:
        jobs.ingest([document.to_job() for document in job.documents])


def found(report: dict[str, Any]) -> dict[str, int]:
    return {kind: n for kind, n in report["summary"]["found"].items() if n}


def test_the_job_reports_what_docqa_check_reports_and_repairs_when_asked(
    services: Services,
) -> None:
    ingest(services, "owls", "bats")
    clean = jobs.check([C])
    assert set(clean) == {"summary", "differences"}
    assert set(clean["summary"]) == set(Summary().to_json())
    assert clean["differences"] == [] and clean["summary"]["documents"] == 2

    owls = [chunk_id for chunk_id, _ in services.store.chunks(C, "owls")]
    services.store.delete(C, owls[:2])
    report = jobs.check([C])
    assert found(report) == {"missing_vectors": 1}
    (line,) = report["differences"]
    assert (line["kind"], line["document_id"]) == ("missing_vectors", "owls")
    assert line["repair"] is None  # not repairing
    assert services.catalog.get(C, "owls").status == "indexed"  # type: ignore[union-attr]

    repaired = jobs.check(None, repair=True)  # every collection
    assert repaired["summary"]["collections"] == [C]
    assert repaired["summary"]["repaired"]["missing_vectors"] == 1
    assert repaired["differences"][0]["repair"].startswith("marked failed")
    assert services.catalog.get(C, "owls").status == "failed"  # type: ignore[union-attr]
    after = jobs.check([C])
    assert after["summary"]["differences"] == 0 and after["differences"] == []


def test_a_report_keeps_its_first_lines_and_counts_them_all(services: Services) -> None:
    ingest(services, "owls", "bats", "cats")
    for name in ("owls", "bats", "cats"):
        services.catalog.delete(C, name)  # each document's chunks are orphans in both stores
    seen: list[dict[str, Any]] = []
    report = check_report.run(
        check_stores(services), [C], repair=False, on_line=seen.append, keep=2
    )
    assert len(seen) == 6 and report.differences == seen[:2]
    assert report.summary.found["orphan_vectors"] == report.summary.found["orphan_keywords"] == 3
    assert set(report.to_json()["summary"]["found"]) == set(KINDS)


def test_parts_that_cannot_list_themselves_fail_the_check_with_the_reason() -> None:
    jobs.use(fake_services())  # FakeStore lists no chunk ids
    try:
        with pytest.raises(Unavailable, match="cannot list its chunks"):
            jobs.check([C])
    finally:
        jobs.use(None)
