"""Small, valid PDFs for tests, written by hand (pypdf cannot easily write text).

``make_pdf(["page one text", ""])`` gives a two-page PDF: each page's text in Helvetica, one
line per ``\\n``; an empty string is a blank page (no text at all, like a scanned page without
OCR). Characters outside Latin-1 (WinAnsi) are replaced by ``?``. The cross-reference table is
computed from the real byte offsets, so strict readers accept it.
"""

from __future__ import annotations

import io


def make_pdf(pages: list[str]) -> bytes:
    """A PDF with one page per string, each holding that text."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    font_id = 3
    first_page_id = 4
    page_ids = [first_page_id + 2 * i for i in range(len(pages))]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % pid for pid in page_ids)
        + b"] /Count %d >>" % len(pages),
        font_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
        b" /Encoding /WinAnsiEncoding >>",
    }
    for page_id, text in zip(page_ids, pages, strict=True):
        content = _content_stream(text)
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, page_id + 1)
        )
        objects[page_id + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, objects[number]))
    xref_at = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[number])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at))
    return out.getvalue()


def encrypt_pdf(data: bytes, password: str) -> bytes:
    """``data`` re-written by pypdf, encrypted (RC4, no extra dependency) with ``password``."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _content_stream(text: str) -> bytes:
    if not text:
        return b""
    lines = [_pdf_string(line) for line in text.split("\n")]
    body = b" T*\n".join(b"(%s) Tj" % line for line in lines)
    return b"BT\n/F1 12 Tf\n14 TL\n72 720 Td\n" + body + b"\nET"


def _pdf_string(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
