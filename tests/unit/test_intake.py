"""Turning accepted input into pending documents: ids, hashes and limits."""

import pytest

from docqa import intake
from docqa.errors import InvalidInput, TooLarge


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
        ("My Report (v2).PDF", "My-Report-v2-.PDF"),
        ("../../x.txt", "x.txt"),
    ],
)
def test_file_ids_come_from_file_names(name: str, expected: str) -> None:
    assert intake.file_id(name) == expected


def test_a_file_name_with_nothing_usable_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no usable document id"):
        intake.file_id("???")
