"""Pure: split a text into sentences, each with its character span, for checking one by one.

Units, in the order they are found:

* a fenced code block (three or more backticks or tildes, to its closing fence or the end) is
  one unit, whatever it holds;
* a list item (a line starting ``-``, ``*``, ``+``, ``•`` or ``1.`` / ``1)``) is one unit, its
  continuation lines included (indented, or starting with a lowercase letter: a line the
  model broke mid-sentence), however many sentences it has;
* other text is cut into sentences after ``.``, ``!``, ``?`` (with any closing quotes or
  brackets, and ``[n]`` citation marks that follow, which belong to the sentence they close)
  when whitespace and then a capital, a digit, a quote, a bracket or an opening mark follow,
  or the text ends; and at blank lines.

Not sentence ends: a period in a number (``3.14``, ``v1.2``), in a URL or a dotted name
(``https://docs.python.org/x.html``: no whitespace follows), after a known abbreviation
(``Mr.``, ``e.g.``, ``etc.``, ``No.``, ``Fig.`` ...) or after a single capital (``J. Smith``).

Spans are exact: ``text[span.start:span.end] == span.text``; a unit's leading and trailing
whitespace is left out, and whitespace between units belongs to none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ABBREVIATIONS = """mr mrs ms dr prof sr jr st vs etc e.g i.e cf al approx ca fig figs no nos
    vol vols p pp ed eds inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec mt ft
    lt col gen gov rev u.s u.k a.m p.m dept est min max"""
ABBREVIATIONS = frozenset(_ABBREVIATIONS.split())

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[^\n]*$", re.MULTILINE)
_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+\S")
_BLANK = re.compile(r"\n[ \t]*\n")
# A sentence end: terminal marks, closers, citation marks; then whitespace and a start (or end).
_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?:[ \t]*\[[^\]\n]{1,20}\])*"
    r"(?=\s+[\"'\u201c\u2018(\[A-Z0-9\u00c0-\u00de`*]|\s*$)"
)
_WORD_BEFORE = re.compile(r"(\S+)$")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    kind: str = "sentence"  # "sentence", "item" (a list item) or "code" (a fenced block)


def split(text: str) -> list[Sentence]:
    """``text``'s units in order (see the module's docstring)."""
    units: list[Sentence] = []
    position = 0
    for start, end in _code_blocks(text):
        units.extend(_prose(text, position, start))
        units.extend(_unit(text, start, end, "code"))
        position = end
    units.extend(_prose(text, position, len(text)))
    return units


def _code_blocks(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each fenced block: an opening fence to its matching closing fence
    (same character, at least as long), or to the end of the text when it is not closed."""
    blocks: list[tuple[int, int]] = []
    opening: re.Match[str] | None = None
    for fence in _FENCE.finditer(text):
        if opening is None:
            opening = fence
        elif fence.group(1)[0] == opening.group(1)[0] and len(fence.group(1)) >= len(
            opening.group(1)
        ):
            blocks.append((opening.start(), fence.end()))
            opening = None
    if opening is not None:
        blocks.append((opening.start(), len(text)))
    return blocks


def _unit(text: str, start: int, end: int, kind: str) -> list[Sentence]:
    """The stretch, whitespace trimmed; nothing when it is blank."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return []
    first = start + (len(piece) - len(piece.lstrip()))
    return [Sentence(first, first + len(stripped), stripped, kind)]


def _prose(text: str, start: int, end: int) -> list[Sentence]:
    """Paragraphs (split at blank lines), then list items, then sentences."""
    units: list[Sentence] = []
    position = start
    for blank in _BLANK.finditer(text, start, end):
        units.extend(_paragraph(text, position, blank.start()))
        position = blank.end()
    units.extend(_paragraph(text, position, end))
    return units


def _paragraph(text: str, start: int, end: int) -> list[Sentence]:
    """List items whole; the lines that are not items cut into sentences."""
    units: list[Sentence] = []
    lines = _lines(text, start, end)
    block_start: int | None = None  # prose lines not yet split
    item_start: int | None = None  # the list item being read
    for line_start, line_end in lines:
        line = text[line_start:line_end]
        if _ITEM.match(line):
            if item_start is not None:
                units.extend(_unit(text, item_start, line_start, "item"))
            if block_start is not None:
                units.extend(_sentences(text, block_start, line_start))
                block_start = None
            item_start = line_start
        elif item_start is not None and (
            (line[:1] in (" ", "\t") and line.strip()) or line[:1].islower()
        ):
            continue  # a continuation of the item: indented, or a lowercase line after it
        else:
            if item_start is not None:
                units.extend(_unit(text, item_start, line_start, "item"))
                item_start = None
            if block_start is None:
                block_start = line_start
    if item_start is not None:
        units.extend(_unit(text, item_start, end, "item"))
    if block_start is not None:
        units.extend(_sentences(text, block_start, end))
    return units


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    lines: list[tuple[int, int]] = []
    position = start
    while position < end:
        newline = text.find("\n", position, end)
        stop = end if newline < 0 else newline + 1
        lines.append((position, stop))
        position = stop
    return lines


def _sentences(text: str, start: int, end: int) -> list[Sentence]:
    units: list[Sentence] = []
    position = start
    segment = text[start:end]
    for match in _END.finditer(segment):
        mark = match.start()
        if segment[mark] == "." and not _ends_sentence(segment[:mark]):
            continue
        stop = start + match.end()
        units.extend(_unit(text, position, stop, "sentence"))
        position = stop
    units.extend(_unit(text, position, end, "sentence"))
    return units


def _ends_sentence(before: str) -> bool:
    """Whether a period after ``before`` ends a sentence: not after an abbreviation, a single
    capital (an initial), or inside a URL, a path or a dotted name."""
    found = _WORD_BEFORE.search(before)
    if found is None:
        return True
    word = found.group(1).lstrip("(\"'\u201c\u2018[")
    if word.lower().rstrip(".") in ABBREVIATIONS:
        return False
    return not (len(word) == 1 and word.isupper())
