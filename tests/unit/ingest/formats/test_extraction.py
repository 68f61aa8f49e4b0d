"""Upload checks and text extraction for .txt, .md, .html/.htm and .pdf."""

from __future__ import annotations

import subprocess
import sys

import pytest

from docqa.core import errors
from docqa.core.models import Section
from docqa.ingest.formats.extraction import check_upload, extract_sections
from docqa.ingest.formats.html import html_to_text
from support.pdfs import encrypt_pdf, make_pdf  # tests/ is on pytest's pythonpath


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("notes.txt", "text"),
        ("README.MD", "markdown"),
        ("page.html", "html"),
        ("page.HTM", "html"),
        ("dir/report.Pdf", "pdf"),
    ],
)
def test_check_upload_returns_the_kind(filename: str, kind: str) -> None:
    data = make_pdf(["x"]) if kind == "pdf" else b"<p>Hello</p>"
    assert check_upload(filename, data) == kind


@pytest.mark.parametrize("filename", ["report.doc", "archive.tar.gz", "noextension", ".txt"])
def test_other_extensions_are_unsupported(filename: str) -> None:
    with pytest.raises(errors.UnsupportedFileType, match=r"supported: \.txt, \.md"):
        check_upload(filename, b"hello")


@pytest.mark.parametrize(
    ("filename", "data", "match"),
    [
        ("a.pdf", b"hello, not a pdf", "not a PDF"),
        ("a.txt", make_pdf(["x"]), "is a PDF"),
        ("a.txt", b"\x89PNG\r\n\x1a\nrest", "PNG"),
        ("a.md", b"PK\x03\x04rest", "ZIP"),
        ("a.txt", b"\x1f\x8b\x08rest", "GZIP"),
        ("a.html", b"\xff\xd8\xff\xe0rest", "JPEG"),
        ("a.txt", "héllo".encode("utf-16"), "NUL byte at offset"),
        ("a.html", b"just some text, no tags", "no HTML markup"),
    ],
)
def test_content_must_match_the_extension(filename: str, data: bytes, match: str) -> None:
    with pytest.raises(errors.FileContentMismatch, match=match):
        check_upload(filename, data)


def test_undecodable_text_names_the_byte_offset() -> None:
    with pytest.raises(errors.InvalidInput, match="offset 8") as caught:
        check_upload("a.txt", b"\xef\xbb\xbfhello\xe9 world")
    assert type(caught.value) is errors.InvalidInput
    with pytest.raises(errors.InvalidInput, match="byte 0xff at offset 2"):
        check_upload("a.md", b"ok\xff")


@pytest.mark.parametrize(
    ("filename", "data"), [("a.txt", b""), ("a.md", b" \n\t\r\n"), ("a.pdf", b"")]
)
def test_empty_files_are_empty_documents(filename: str, data: bytes) -> None:
    with pytest.raises(errors.EmptyDocument):
        check_upload(filename, data)


def test_a_bom_is_allowed_and_dropped() -> None:
    data = "\ufeffCafé au lait.\r\nSecond line.".encode()
    assert check_upload("a.txt", data) == "text"
    assert extract_sections("text", data) == [Section("Café au lait.\nSecond line.")]


def test_check_upload_imports_no_heavy_modules() -> None:
    code = (
        "import sys; from docqa.ingest.formats.extraction import check_upload;"
        "check_upload('a.html', b'<p>x</p>'); check_upload('a.pdf', b'%PDF-1.7 ...');"
        "print(sorted(m for m in ('pypdf', 'bs4', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_text_is_one_section_and_markdown_follows_its_headings() -> None:
    markdown = b"# Title\n\nSome *emphasis* and a [link](http://x).\n"
    assert extract_sections("markdown", markdown) == [
        Section(
            "# Title\n\nSome *emphasis* and a [link](http://x).",
            {"title": "Title", "section": "Title", "heading_level": 1},
        )
    ]
    assert extract_sections("text", b"# Not a heading\n\nplain") == [
        Section("# Not a heading\n\nplain")
    ]
    with pytest.raises(errors.EmptyDocument):
        extract_sections("text", b"   ")


HTML = b"""<!DOCTYPE html>
<html><head><title>The Title</title><style>p { color: red }</style>
<script>var x = "hidden";</script></head>
<body>
  <!-- a comment -->
  <h1>The Title</h1>
  <p>First   paragraph
     spans lines.</p><p>Second<br>line two.</p>
  <ul><li>one</li><li>two</li></ul>
  <table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>
  <noscript>enable js</noscript><span>inline</span> <b>bold</b>
</body></html>"""


def test_html_keeps_visible_text_with_block_breaks() -> None:
    assert check_upload("page.html", HTML) == "html"
    [section] = extract_sections(
        "html", HTML
    )  # a section per heading: docqa.ingest.formats.html's tests
    assert section.text == (
        "The Title\n\nFirst paragraph spans lines.\n\nSecond\nline two.\n\none\n\ntwo"
        "\n\na b\n\nc d\n\ninline bold"
    )
    assert section.metadata == {"title": "The Title", "section": "The Title", "heading_level": 1}


def test_html_title_is_added_when_the_body_lacks_it() -> None:
    html = "<html><head><title>Report</title></head><body><p>Body text.</p></body></html>"
    assert html_to_text(html) == "Report\n\nBody text."


def test_html_without_text_has_no_extractable_text() -> None:
    with pytest.raises(errors.NoExtractableText):
        extract_sections("html", b"<html><body><script>x()</script><img src=a.png></body></html>")


def test_pdf_gives_one_section_per_page_with_text() -> None:
    data = make_pdf(["Page one. (Parens) and back\\slash.\nSecond line.", "", "Page three."])
    assert check_upload("a.pdf", data) == "pdf"
    assert extract_sections("pdf", data) == [
        Section("Page one. (Parens) and back\\slash.\nSecond line.", {"page": 1}),
        Section("Page three.", {"page": 3}),
    ]


def test_pdf_with_only_a_blank_page_has_no_extractable_text() -> None:
    with pytest.raises(errors.NoExtractableText, match="scanned images"):
        extract_sections("pdf", make_pdf([""]))


def test_password_protected_pdf_is_invalid_input() -> None:
    with pytest.raises(errors.InvalidInput, match="password"):
        extract_sections("pdf", encrypt_pdf(make_pdf(["secret"]), "pw"))


def test_pdf_encrypted_with_an_empty_password_is_read() -> None:
    data = encrypt_pdf(make_pdf(["open text"]), "")
    assert extract_sections("pdf", data) == [Section("open text", {"page": 1})]


@pytest.mark.parametrize("data", [b"%PDF-1.4\ngarbage", make_pdf(["cut short"])[:150]])
def test_corrupt_pdf_is_invalid_input_with_pypdfs_reason(data: bytes) -> None:
    with pytest.raises(errors.InvalidInput, match=r"could not read the PDF: .+"):
        extract_sections("pdf", data)


def with_outline(data: bytes) -> bytes:
    """``data`` with bookmarks: Chapter 1 (page 2) > Section 1.1 (page 3), Chapter 2 (page 4)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    chapter = writer.add_outline_item(title="Chapter  1", page_number=1)
    writer.add_outline_item(title="Section 1.1", page_number=2, parent=chapter)
    writer.add_outline_item(title="Late", page_number=2, parent=chapter)
    writer.add_outline_item(title="Chapter 2", page_number=3)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_pages_take_the_section_of_the_outline_entry_covering_them() -> None:
    data = with_outline(make_pdf(["Cover.", "One.", "One one.", "Two.", "Two more."]))
    sections = extract_sections("pdf", data)
    assert [s.metadata for s in sections] == [
        {"page": 1},  # before the first entry
        {"page": 2, "section": "Chapter 1", "heading_level": 1},
        # two entries start on page 3: the first one
        {"page": 3, "section": "Chapter 1 \u203a Section 1.1", "heading_level": 2},
        {"page": 4, "section": "Chapter 2", "heading_level": 1},
        {"page": 5, "section": "Chapter 2", "heading_level": 1},  # the last entry started
    ]
    assert [s.text for s in sections] == ["Cover.", "One.", "One one.", "Two.", "Two more."]
