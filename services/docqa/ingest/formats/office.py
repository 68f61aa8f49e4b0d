"""Word (``.docx``) and PowerPoint (``.pptx``) files: the upload check and the text.

Both are OOXML packages: a ZIP archive whose ``[Content_Types].xml`` names each part's content
type; the main part (``word/document.xml``, ``ppt/presentation.xml`` by convention, but any
name the content types give) holds the document. Legacy binary ``.doc``/``.ppt`` files are
another format altogether (OLE compound files) and are refused by extension (415).

``check_package`` runs in the API process with the standard library only (python-docx and
python-pptx are imported lazily, by ``docx_sections``/``pptx_sections`` in the worker). Rules:

- The bytes are a ZIP archive (``PK\\x03\\x04``) whose central directory reads.
- At most ``MAX_PARTS`` entries, and their declared uncompressed sizes add up to at most
  ``MAX_UNPACKED_BYTES``: a zip bomb is refused before anything is inflated. (Python's
  ``zipfile`` never inflates an entry past its declared size, so the bound holds when the
  worker reads the parts too.)
- ``[Content_Types].xml`` is present, at most 1 MiB, and declares the main part's content type
  for the extension (a ``.docx`` that is really a presentation is refused), and that part is in
  the archive.

Extraction rules:

- docx: the body's paragraphs and tables in document order. A paragraph styled ``Heading N``
  (or ``Title``, level 0) starts a new section whose metadata is ``{"section": heading path,
  "heading_level": N}``, the path of the headings' texts (whitespace collapsed) as
  ``headings.HeadingPath`` says (``Title`` above ``Heading 1`` above ``Heading 2``...); the
  heading's text opens the section. A heading with no text of its own followed by a deeper one
  opens no section of its own: its text opens its first subsection's. Every section carries
  ``title``: the file's core property ``title``, else the first ``Title`` paragraph's text, else
  the first ``Heading 1``'s; none if all are missing. Paragraphs are separated by a blank line.
  A table is one paragraph, one line per row, its cells joined by `` | `` (a merged cell once).
  Headers, footers, comments and images are left out.
- pptx: one section per slide with text, metadata ``{"slide": n}`` (1-based, like a PDF's
  ``page``) and ``"section"``: the slide's title when it has one. The text of every shape, in
  the slide's order (groups entered, tables as for docx), then the speaker notes after a
  ``Notes:`` line.
- A file with no text at all is ``NoExtractableText``; one python-docx/python-pptx cannot read
  is ``InvalidInput`` with its reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any, Literal
from xml.etree import ElementTree

from docqa.core.errors import DocqaError, FileContentMismatch, InvalidInput, NoExtractableText
from docqa.core.headings import HeadingPath
from docqa.core.models import Metadata, Section

OfficeKind = Literal["docx", "pptx"]

MAX_PARTS = 10_000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

# The main part's content types each extension accepts (the macro-free document and template
# forms; a slide show is a presentation too).
MAIN_CONTENT_TYPES: dict[OfficeKind, frozenset[str]] = {
    "docx": frozenset(
        {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        }
    ),
    "pptx": frozenset(
        {
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
            "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
        }
    ),
}
WHAT: dict[OfficeKind, str] = {"docx": "Word (.docx)", "pptx": "PowerPoint (.pptx)"}
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def check_package(name: str, kind: OfficeKind, data: bytes) -> None:
    """Refuse ``data`` unless it is a bounded OOXML package of ``kind`` (see the rules)."""
    what = WHAT[kind]
    if not data.startswith(b"PK\x03\x04"):
        raise FileContentMismatch(f"{name} is not a ZIP package: not a {what} file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileContentMismatch(f"{name} is a damaged ZIP package: {exc}") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_PARTS:
            raise FileContentMismatch(f"{name} has {len(entries)} parts; the limit is {MAX_PARTS}")
        unpacked = sum(entry.file_size for entry in entries)
        if unpacked > MAX_UNPACKED_BYTES:
            raise FileContentMismatch(
                f"{name} unpacks to {unpacked} bytes; the limit is {MAX_UNPACKED_BYTES} "
                "(a zip bomb?)"
            )
        names = {entry.filename for entry in entries}
        main = _main_part(name, kind, archive, names)
        if main not in names:
            raise FileContentMismatch(f"{name} names its main part {main!r} but lacks it")


def _main_part(name: str, kind: OfficeKind, archive: zipfile.ZipFile, names: set[str]) -> str:
    what = WHAT[kind]
    if "[Content_Types].xml" not in names:
        raise FileContentMismatch(f"{name} has no [Content_Types].xml: not a {what} file")
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > MAX_CONTENT_TYPES_BYTES:
        raise FileContentMismatch(f"{name}: [Content_Types].xml is {info.file_size} bytes")
    try:
        root = ElementTree.fromstring(archive.read(info))
    except (ElementTree.ParseError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileContentMismatch(f"{name}: unreadable [Content_Types].xml: {exc}") from exc
    for override in root.iter(f"{_CT}Override"):
        if override.get("ContentType") in MAIN_CONTENT_TYPES[kind]:
            return str(override.get("PartName", "")).lstrip("/")
    raise FileContentMismatch(f"{name} has no {what} main part: not a {what} file")


def docx_sections(data: bytes) -> list[Section]:
    """The text of a checked ``.docx``, a section per heading (see the module rules)."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        title = " ".join((document.core_properties.title or "").split())
    except Exception as exc:  # python-docx raises many types on malformed packages
        raise InvalidInput(f"could not read the Word file: {_reason(exc)}") from exc
    sections: list[Section] = []
    paragraphs: list[str] = []
    metadata: Metadata = {}
    path = HeadingPath()
    first: dict[int, str] = {}  # level -> the first heading's text, for the title
    bare: int | None = None  # the last heading's level while the section has only headings

    def close() -> None:
        text = "\n\n".join(paragraphs).strip()
        if text:
            sections.append(Section(text, dict(metadata)))

    for block in blocks:
        if isinstance(block, Table):
            paragraphs.append(_table_text(block.rows))
            bare = None if paragraphs[-1].strip() else bare
            continue
        text = block.text.strip()
        level = _heading_level(block.style.name if block.style is not None else "")
        if level is not None and text:
            if bare is None or level <= bare:  # (else its text opens this subsection's)
                close()
                paragraphs = []
            first.setdefault(level, " ".join(text.split()))
            heading = path.enter(level, " ".join(text.split()))
            bare, metadata = level, {"section": heading, "heading_level": level}
        elif text:
            bare = None
        if text:
            paragraphs.append(text)
    close()
    if not sections:
        raise NoExtractableText("the Word file has no text")
    title = title or first.get(0) or first.get(1, "")
    if title:
        return [Section(s.text, {**s.metadata, "title": title}) for s in sections]
    return sections


def pptx_sections(data: bytes) -> list[Section]:
    """The text of a checked ``.pptx``, a section per slide (see the module rules)."""
    import pptx

    try:
        slides = list(pptx.Presentation(io.BytesIO(data)).slides)
    except Exception as exc:
        raise InvalidInput(f"could not read the PowerPoint file: {_reason(exc)}") from exc
    sections: list[Section] = []
    for number, slide in enumerate(slides, start=1):
        texts = [text for text in _shape_texts(slide.shapes) if text]
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                texts.append(f"Notes:\n{notes.text.strip()}")
        if not texts:
            continue
        metadata: Metadata = {"slide": number}
        title = slide.shapes.title
        if title is not None and title.has_text_frame and title.text_frame.text.strip():
            metadata["section"] = " ".join(title.text_frame.text.split())
        sections.append(Section(_newlines("\n\n".join(texts)), metadata))
    if not sections:
        raise NoExtractableText("the PowerPoint file has no text")
    return sections


def _shape_texts(shapes: Iterable[Any]) -> Iterator[str]:
    for shape in shapes:
        if getattr(shape, "shapes", None) is not None:  # a group
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False):
            yield _table_text(shape.table.rows)
        elif getattr(shape, "has_text_frame", False):
            yield shape.text_frame.text.strip()


def _table_text(rows: Iterable[Any]) -> str:
    lines = []
    for row in rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            key = id(getattr(cell, "_tc", cell))  # a merged cell comes back once per grid cell
            if key in seen:
                continue
            seen.add(key)
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _heading_level(style: str) -> int | None:
    if style.strip().lower() == "title":
        return 0
    match = _HEADING.match(style.strip())
    return int(match.group(1)) if match else None


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")


def _reason(exc: Exception) -> str:
    if isinstance(exc, DocqaError):
        return exc.detail
    return str(exc) or type(exc).__name__
