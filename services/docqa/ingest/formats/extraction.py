"""Uploaded files -> sections of text; and the cheap upload check the API runs first.

Kinds, by extension (case-insensitive): ``.txt`` text, ``.md`` markdown, ``.html``/``.htm`` html,
``.pdf`` pdf, ``.docx`` docx, ``.pptx`` pptx (``EXTENSIONS``: the one list of what the API
reads). Legacy ``.doc``/``.ppt`` are refused like any other extension (415), with a hint.

``check_upload`` runs in the API process, so it only sniffs bytes: no PDF parsing, and this
module imports neither pypdf nor BeautifulSoup at import time (``extract_sections`` does, lazily,
in the worker). Its rules:

- pdf: the bytes start with ``%PDF-``.
- docx, pptx: a bounded OOXML package with its main part (``office.check_package``).
- text, markdown, html: no known binary signature at the start (PDF, PNG, ZIP, GZIP, JPEG, GIF,
  ELF), no NUL byte, valid UTF-8 (a BOM is allowed), and not whitespace-only. HTML must also
  contain markup (a tag, a comment or a doctype).
- Any kind: an empty file is an ``EmptyDocument``.

``extract_sections`` rules:

- text: one section, the decoded text, newlines normalised to ``\\n``.
- markdown: the same text in sections that follow its headings, front matter as metadata and
  HTML comments dropped (``docqa.ingest.formats.markdown``).
- html: the visible text in sections that follow its ``h1``-``h6`` headings
(``docqa.ingest.formats.html``).
- pdf: one section per page that has text, metadata ``{"page": n}`` (1-based), via pypdf; when
  the file has an outline (bookmarks), also ``"section"``: the heading path (``headings``) of the
  outline entry covering the page (the first entry that starts on it, else the last one started
  before it; none before the first) and ``"heading_level"``: its depth (1 at the top). No
  ``title``: a PDF's title property is too often a tool's leftover ("Microsoft Word - x.doc"). An
  encrypted PDF is tried with the empty password (owner-only protection); otherwise it, and any
  PDF pypdf cannot read, is an ``InvalidInput`` carrying pypdf's reason.
- docx, pptx: see ``docqa.ingest.formats.office`` (a section per heading; a section per slide,
``{"slide": n}``).
- No text at all (a scanned PDF, an HTML page of markup only) is ``NoExtractableText``.
"""

from __future__ import annotations

import bisect
import io
import re
from typing import TYPE_CHECKING, Any, Literal

from docqa.core.errors import (
    DocqaError,
    EmptyDocument,
    FileContentMismatch,
    InvalidInput,
    NoExtractableText,
    UnsupportedFileType,
)
from docqa.core.headings import SEPARATOR
from docqa.core.models import Metadata, Section
from docqa.ingest.formats.html import html_sections
from docqa.ingest.formats.markdown import markdown_sections
from docqa.ingest.formats.office import check_package, docx_sections, pptx_sections

if TYPE_CHECKING:
    from pypdf import PdfReader

FileKind = Literal["text", "markdown", "html", "pdf", "docx", "pptx"]

EXTENSIONS: dict[str, FileKind] = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
}
# Binary formats people have that are not read; the refusal says what to do instead.
LEGACY: dict[str, str] = {
    ".doc": "legacy Word 97-2003 files are not read; save it as .docx",
    ".ppt": "legacy PowerPoint 97-2003 files are not read; save it as .pptx",
}

_BOM = b"\xef\xbb\xbf"
_BINARY_SIGNATURES: dict[bytes, str] = {
    b"%PDF-": "a PDF",
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"PK\x03\x04": "a ZIP archive (or an office document)",
    b"\x1f\x8b": "a GZIP archive",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"\x7fELF": "an executable",
}
_MARKUP = re.compile(r"<(?:!--|!doctype|/?[a-z][a-z0-9-]*[\s/>])", re.IGNORECASE)


def file_kind(filename: str) -> FileKind:
    """The kind for ``filename``'s extension; ``UnsupportedFileType`` for any other."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    if extension not in EXTENSIONS:
        supported = ", ".join(EXTENSIONS)
        shown = f"'{extension}'" if extension else "no extension"
        hint = f"{LEGACY[extension]}; " if extension in LEGACY else ""
        raise UnsupportedFileType(
            f"{filename!r}: unsupported file type ({shown}); {hint}supported: {supported}"
        )
    return EXTENSIONS[extension]


def check_upload(filename: str, data: bytes) -> FileKind:
    """Check that ``data`` is what ``filename``'s extension says, cheaply; return its kind."""
    kind = file_kind(filename)
    if not data:
        raise EmptyDocument(f"{filename!r} is empty")
    if kind == "pdf":
        if not data.startswith(b"%PDF-"):
            raise FileContentMismatch(f"{filename!r} does not start with %PDF-: not a PDF file")
        return kind
    if kind in ("docx", "pptx"):
        check_package(repr(filename), kind, data)
        return kind
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature) or data.startswith(_BOM + signature):
            raise FileContentMismatch(f"{filename!r} is {what}, not a {kind} file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileContentMismatch(
            f"{filename!r} has a NUL byte at offset {nul}: a binary file, or text not in UTF-8"
        )
    text = _decode(repr(filename), data)
    if not text.strip():
        raise EmptyDocument(f"{filename!r} has only whitespace")
    if kind == "html" and not _MARKUP.search(text):
        raise FileContentMismatch(f"{filename!r} has no HTML markup: not an HTML file")
    return kind


def extract_sections(kind: str, data: bytes) -> list[Section]:
    """The text of a file checked by ``check_upload``, as sections (see the module rules)."""
    if kind in ("text", "markdown"):
        text = _normalise_newlines(_decode("the document", data))
        if not text.strip():
            raise EmptyDocument("the document has only whitespace")
        if kind == "text":
            return [Section(text)]
        sections = markdown_sections(text)
        if not sections:
            raise NoExtractableText("the Markdown has no text besides front matter and comments")
        return sections
    if kind == "html":
        sections = html_sections(_decode("the document", data))
        if not sections:
            raise NoExtractableText("the HTML has no text")
        return sections
    if kind == "pdf":
        return _pdf_sections(data)
    if kind == "docx":
        return docx_sections(data)
    if kind == "pptx":
        return pptx_sections(data)
    raise UnsupportedFileType(f"unsupported file kind {kind!r}")


def _pdf_sections(data: bytes) -> list[Section]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput("the PDF is password-protected; upload an unprotected copy")
        pages = list(reader.pages)
    except DocqaError:
        raise
    except Exception as exc:  # pypdf raises many types on malformed files
        raise InvalidInput(f"could not read the PDF: {_reason(exc)}") from exc
    outline = _outline(reader)
    sections: list[Section] = []
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text()
        except Exception as exc:
            raise InvalidInput(f"could not read page {number} of the PDF: {_reason(exc)}") from exc
        text = _normalise_newlines(text).strip()
        if text:
            sections.append(Section(text, {"page": number, **_covering(outline, number - 1)}))
    if not sections:
        raise NoExtractableText("the PDF has no extractable text (scanned images?)")
    return sections


def _outline(reader: PdfReader) -> list[tuple[int, int, str]]:
    """``(page index, depth, heading path)`` of each outline entry with a page, sorted by page
    (outline order within a page); ``[]`` when there is none or it cannot be read."""
    entries: list[tuple[int, int, str]] = []

    def walk(items: list[Any], parents: list[str]) -> None:
        previous = ""
        for item in items:
            if isinstance(item, list):  # the children of the entry before
                walk(item, [*parents, previous] if previous else parents)
                continue
            previous = " ".join(str(item.title or "").split())
            page = reader.get_destination_page_number(item)
            if previous and page is not None and page >= 0:
                entries.append((page, len(parents) + 1, SEPARATOR.join([*parents, previous])))

    try:
        walk(reader.outline, [])
    except Exception:  # a damaged outline costs the sections their path, never the text
        return []
    return sorted(entries, key=lambda entry: entry[0])


def _covering(outline: list[tuple[int, int, str]], index: int) -> Metadata:
    """The outline entry of page ``index``: the first that starts on it, else the last before."""
    at = bisect.bisect_left(outline, index, key=lambda entry: entry[0])
    if at < len(outline) and outline[at][0] == index:
        entry = outline[at]
    elif at > 0:
        entry = outline[at - 1]
    else:
        return {}
    return {"section": entry[2], "heading_level": entry[1]}


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _decode(name: str, data: bytes) -> str:
    """UTF-8 with an optional BOM (dropped); ``InvalidInput`` naming the first bad byte's offset."""
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        raise InvalidInput(
            f"{name} is not valid UTF-8: byte 0x{data[offset]:02x} at offset {offset}"
        ) from exc


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
