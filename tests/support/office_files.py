"""Small Word and PowerPoint files built with python-docx and python-pptx, for the tests."""

from __future__ import annotations

import io
import zipfile

import docx
import pptx
from pptx.util import Inches


def make_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("An opening line before any heading.")
    document.add_heading("Owls", level=1)
    document.add_paragraph("Owls hunt at night.")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([["Bird", "Hunts", "Call"], ["Barn owl", "night", "screech"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    merged = document.add_table(rows=1, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "wide"
    merged.cell(0, 2).text = "narrow"
    document.add_heading("Barn owls", level=2)
    document.add_paragraph("Barn owls nest in barns.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pptx(*, notes: bool = True, empty_slide: bool = False) -> bytes:
    deck = pptx.Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    assert first.shapes.title is not None
    first.shapes.title.text = "Quarterly owls"
    first.placeholders[1].text = "Sightings rose 40 %"
    if notes:
        first.notes_slide.notes_text_frame.text = "Mention the barn survey."
    if empty_slide:
        deck.slides.add_slide(deck.slide_layouts[6])  # blank
    third = deck.slides.add_slide(deck.slide_layouts[6])
    box = third.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))
    box.text_frame.text = "Owls eat mice."
    group = third.shapes.add_group_shape()
    inner = group.shapes.add_textbox(Inches(1), Inches(3), Inches(2), Inches(1))
    inner.text_frame.text = "Grouped words"
    grid = third.shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table
    for r, row in enumerate([["Month", "Owls"], ["May", "12"]]):
        for c, text in enumerate(row):
            grid.cell(r, c).text = text
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def repack(data: bytes, *, drop: str = "", replace: dict[str, bytes] | None = None) -> bytes:
    """The package with one part left out and/or some parts' bytes replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename != drop:
                body = (replace or {}).get(item.filename, src.read(item))
                dst.writestr(item.filename, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()
