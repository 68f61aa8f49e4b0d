"""Turning accepted input into pending documents: ids, hashes and limits."""

import pytest

from docqa.core.errors import InvalidInput, TooLarge
from docqa.ingest import intake
from support.fakes import FakeCatalog


def text(body: str, **kwargs: object) -> intake.PendingDocument:
    options: dict[str, object] = {"document_id": None, "title": None, "metadata": {}}
    options.update(kwargs)
    return intake.text_document("c", body, max_bytes=100, **options)  # type: ignore[arg-type]


def test_a_document_without_id_is_named_by_its_text() -> None:
    assert text("Same words.").id == text("Same words.").id != text("Other words.").id
    assert text("x", document_id="mine").id == "mine"


def test_title_and_metadata_are_part_of_the_content() -> None:
    plain = text("Body", document_id="d")
    assert plain.content_hash == text("Body", document_id="d").content_hash
    assert plain.content_hash != text("Body", document_id="d", title="T").content_hash
    assert plain.content_hash != text("Body", document_id="d", metadata={"k": 1}).content_hash


def test_size_is_counted_in_utf8_bytes() -> None:
    assert text("é" * 50).data  # 100 bytes: at the limit
    with pytest.raises(TooLarge, match="101 bytes"):
        text("é" * 50 + "x")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("My Report (v2).PDF", "My Report (v2).PDF"),
        ("../../x.txt", "x.txt"),
        ("a/b.md", "a/b.md"),
        ("a-b.md", "a-b.md"),
    ],
)
def test_file_ids_come_from_file_names(name: str, expected: str) -> None:
    assert intake.file_id(name) == expected


def test_a_file_name_with_nothing_usable_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no usable document id"):
        intake.file_id("../")


def accepted(catalog: FakeCatalog, *bodies: str) -> tuple[str | None, list[tuple[str, bool]]]:
    return intake.accept([text(b, document_id=f"d{i}") for i, b in enumerate(bodies)], catalog)


def test_records_and_their_job_are_submitted_together() -> None:
    catalog = FakeCatalog()
    job_id, outcome = accepted(catalog, "One.", "Two.")
    assert job_id is not None and outcome == [("d0", True), ("d1", True)]
    job = catalog.queue.jobs[job_id]
    assert [d.id for d in job.documents] == ["d0", "d1"]
    records = [catalog.get("c", i) for i in ("d0", "d1")]
    assert all(r is not None and r.status == "queued" and r.job_id == job_id for r in records)


def test_identical_content_is_not_queued_again_and_changed_content_is() -> None:
    catalog = FakeCatalog()
    accepted(catalog, "One.", "Two.")
    assert accepted(catalog, "One.", "Two.") == (None, [("d0", False), ("d1", False)])
    job_id, outcome = accepted(catalog, "One.", "Two, changed.")
    assert outcome == [("d0", False), ("d1", True)]
    assert job_id is not None and [d.id for d in catalog.queue.jobs[job_id].documents] == ["d1"]
    assert len(catalog.queue.jobs) == 2


def test_an_id_twice_in_one_request_is_refused_and_nothing_is_written() -> None:
    catalog = FakeCatalog()
    with pytest.raises(InvalidInput, match="more than once"):
        intake.accept([text("a", document_id="x"), text("b", document_id="x")], catalog)
    assert catalog.records == {} and catalog.queue.jobs == {}


def test_a_collection_is_copied_a_page_per_job_leaving_out_what_is_not_indexed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "JOB_DOCUMENTS", 2)
    catalog = FakeCatalog()
    accepted(catalog, "A.", "B.", "C.", "D.", "E.")
    for i in (0, 1, 2, 4):  # d3 stays queued: not indexed, so not copied
        record = catalog.get("c", f"d{i}")
        assert record is not None
        catalog.update("c", record.id, record.content_hash, status="indexed")

    copied = intake.copy_collection("c", "c2", catalog)

    assert (copied.queued, copied.skipped, len(copied.jobs)) == (4, 1, 3)  # pages of 2, 2, 1
    copies = [d for job in copied.jobs for d in catalog.queue.jobs[job].documents]
    assert [d.id for d in copies] == ["d0", "d1", "d2", "d4"]
    assert all(d.collection == "c2" and d.copy_from == "c" and d.data == "" for d in copies)
    again = intake.copy_collection("c", "c2", catalog)
    assert (again.queued, again.jobs) == (0, [])  # each copy is queued already: unchanged
