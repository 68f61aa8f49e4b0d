"""Word and PowerPoint files: the upload check (a bounded OOXML package with its main part) and
the text, built here with python-docx and python-pptx."""

from __future__ import annotations

import io
import zipfile

import docx
import pptx
import pytest

from docqa.core import errors
from docqa.core.models import Section
from docqa.ingest.formats import office
from docqa.ingest.formats.extraction import check_upload, extract_sections
from support.office_files import make_docx, make_pptx, repack  # tests/ is on pytest's pythonpath


def test_docx_sections_follow_headings_with_tables_as_text() -> None:
    data = make_docx()
    assert check_upload("report.DOCX", data) == "docx"
    sections = extract_sections("docx", data)
    assert sections[0] == Section("An opening line before any heading.", {"title": "Owls"})
    owls = sections[1]
    assert owls.metadata == {"section": "Owls", "heading_level": 1, "title": "Owls"}
    assert owls.text == (
        "Owls\n\nOwls hunt at night.\n\n"
        "Bird | Hunts | Call\nBarn owl | night | screech\n\nwide | narrow"
    )
    assert sections[2] == Section(
        "Barn owls\n\nBarn owls nest in barns.",
        {"section": "Owls \u203a Barn owls", "heading_level": 2, "title": "Owls"},
    )
    assert len(sections) == 3


def docx_of(*blocks: tuple[int | None, str], title: str = "") -> bytes:
    """A .docx of paragraphs: ``(level, text)``, ``level`` None for body text, 0 for Title."""
    document = docx.Document()
    document.core_properties.title = title
    for level, text in blocks:
        if level is None:
            document.add_paragraph(text)
        else:
            document.add_heading(text, level=level)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_headings_nest_into_paths_under_the_title_style() -> None:
    data = docx_of(
        (0, "Field guide"),
        (None, "Foreword."),
        (1, "Owls"),
        (2, "Barn   owls"),
        (3, "Nests"),
        (None, "In barns."),
        (2, "Snowy owls"),
        (None, "In the Arctic."),
        (4, "Deep"),
        (3, "Above deep"),
        (1, "Hawks"),
    )
    sections = extract_sections("docx", data)
    assert [(s.metadata["section"], s.metadata["heading_level"]) for s in sections] == [
        ("Field guide", 0),
        # Owls and Barn owls have no text of their own: they open their first subsection
        ("Field guide \u203a Owls \u203a Barn owls \u203a Nests", 3),
        ("Field guide \u203a Owls \u203a Snowy owls", 2),
        ("Field guide \u203a Owls \u203a Snowy owls \u203a Deep", 4),  # then a shallower one
        ("Field guide \u203a Owls \u203a Snowy owls \u203a Above deep", 3),
        ("Field guide \u203a Hawks", 1),
    ]
    assert {s.metadata["title"] for s in sections} == {"Field guide"}  # the Title paragraph
    # the headings' texts open the section as written
    assert sections[1].text == "Owls\n\nBarn   owls\n\nNests\n\nIn barns."
    assert sections[3].text == "Deep"


def test_docx_title_is_the_core_property_else_the_first_heading_else_none() -> None:
    with_property = extract_sections("docx", docx_of((1, "Intro"), title="Annual  report"))
    assert with_property[0].metadata["title"] == "Annual report"
    no_headings = extract_sections("docx", docx_of((None, "Just text.")))
    assert no_headings == [Section("Just text.", {})]


def test_pptx_sections_are_slides_with_notes_groups_and_tables() -> None:
    data = make_pptx(empty_slide=True)
    assert check_upload("deck.pptx", data) == "pptx"
    sections = extract_sections("pptx", data)
    assert [s.metadata for s in sections] == [
        {"slide": 1, "section": "Quarterly owls"},
        {"slide": 3},  # slide 2 has no text: no section, but the numbers stay the deck's
    ]
    assert sections[0].text == (
        "Quarterly owls\n\nSightings rose 40 %\n\nNotes:\nMention the barn survey."
    )
    assert sections[1].text == "Owls eat mice.\n\nGrouped words\n\nMonth | Owls\nMay | 12"


def test_files_without_text_are_refused() -> None:
    blank = io.BytesIO()
    docx.Document().save(blank)
    with pytest.raises(errors.NoExtractableText, match="Word file has no text"):
        extract_sections("docx", blank.getvalue())
    deck = pptx.Presentation()
    deck.slides.add_slide(deck.slide_layouts[6])
    empty = io.BytesIO()
    deck.save(empty)
    with pytest.raises(errors.NoExtractableText, match="PowerPoint file has no text"):
        extract_sections("pptx", empty.getvalue())


@pytest.mark.parametrize(
    ("filename", "make", "match"),
    [
        ("a.docx", lambda: b"plain text, not a package", "not a ZIP package"),
        ("a.docx", lambda: b"PK\x03\x04 truncated", "damaged ZIP"),
        ("a.docx", make_pptx, r"no Word \(\.docx\) main part"),  # a deck named .docx
        ("a.pptx", make_docx, r"no PowerPoint \(\.pptx\) main part"),
        ("a.docx", lambda: repack(make_docx(), drop="[Content_Types].xml"), "no \\[Content"),
        ("a.docx", lambda: repack(make_docx(), drop="word/document.xml"), "lacks it"),
        ("a.pptx", lambda: repack(make_pptx(), replace={"[Content_Types].xml": b"<x"}), "unread"),
    ],
)
def test_packages_that_are_not_what_they_say_are_refused(
    filename: str, make: object, match: str
) -> None:
    with pytest.raises(errors.FileContentMismatch, match=match):
        check_upload(filename, make())  # type: ignore[operator]


def test_a_zip_bomb_is_refused_before_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_docx()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(item.file_size for item in archive.infolist())
    monkeypatch.setattr(office, "MAX_UNPACKED_BYTES", unpacked - 1)
    with pytest.raises(errors.FileContentMismatch, match=f"unpacks to {unpacked} bytes"):
        check_upload("a.docx", data)
    # A real bomb: 300 MB of zeros deflate to ~300 kB; only the central directory is read.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", zipfile.ZipFile(io.BytesIO(data)).read(
            "[Content_Types].xml"))  # fmt: skip
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            for _ in range(300):
                part.write(bytes(1024 * 1024))
    monkeypatch.undo()
    assert len(bomb.getvalue()) < 1024 * 1024
    with pytest.raises(errors.FileContentMismatch, match="zip bomb"):
        check_upload("bomb.docx", bomb.getvalue())


@pytest.mark.parametrize(("filename", "hint"), [("old.doc", "as .docx"), ("OLD.PPT", "as .pptx")])
def test_legacy_office_files_are_unsupported_with_a_hint(filename: str, hint: str) -> None:
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)  # an OLE compound file
    with pytest.raises(errors.UnsupportedFileType, match=hint):
        check_upload(filename, legacy)


def test_an_unreadable_main_part_is_invalid_input() -> None:
    broken = repack(make_docx(), replace={"word/document.xml": b"<not-xml"})
    check_upload("a.docx", broken)  # the upload check does not parse the document itself
    with pytest.raises(errors.InvalidInput, match="could not read the Word file"):
        extract_sections("docx", broken)
