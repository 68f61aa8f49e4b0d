"""Markdown text -> sections that follow its headings (pure; CommonMark's block rules, simplified).

Rules, in order:

1. Front matter. A YAML block at the very start is removed from the text and becomes metadata
   (``docqa.ingest.formats.front_matter``, whose rules say what is kept).
2. Comments. HTML comments ``<!-- ... -->`` outside fenced code and inline code spans are
   removed (they are not rendered text); lines that held nothing but a comment become one blank
   line.
3. Fenced code (``fenced_blocks``). A line whose first non-blank characters are 3+ backticks or
   tildes opens a block (any indentation, so fences inside list items count; a backtick fence's
   info string holds no backtick); a line of at least as many of the same character and nothing
   else closes it, so shorter fences nest inside longer ones. An unclosed block runs to the end.
   Nothing inside a block is a heading or a comment.
4. Headings. ATX: ``#`` to ``######`` after at most 3 spaces, then a space or the line's end; a
   closing run of ``#`` after a space is dropped. Setext: a paragraph (consecutive non-blank
   lines not starting a list item, block quote, table row or indented code) underlined by a line
   of ``=`` (level 1) or ``-`` (level 2); a ``---`` after a blank line is a thematic break. A
   heading with no text opens nothing.
5. Heading text: attribute lists (``{#id}``, ``{: .class}``) at the end and inline HTML tags
   (``<a name="x"></a>``) are removed, whitespace collapses to one space; inline Markdown
   (backticks, emphasis, links) is kept as written. Paths nest as ``headings.HeadingPath`` says.
6. Sections. Each heading opens a section that runs to the next heading; its text starts with the
   heading's own lines, kept as written, and its metadata is ``{"section": path,
   "heading_level": level}``. A heading with no text of its own followed by a deeper one opens
   no section of its own (no chunk of a heading alone): its lines open its first subsection's
   text, which is still under it. Text before the first heading is a section without those
   keys; a document without headings is one section. Every section also carries the front
   matter's keys and ``title``: the front matter's, else the text of the first level-1 heading.
   Section texts are stripped; whitespace-only ones vanish.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from docqa.core.headings import HeadingPath
from docqa.core.models import Metadata, Section
from docqa.ingest.formats.front_matter import front_matter

Span = tuple[int, int]

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^(?: {4,}|\t| {0,3}(?:[-+*][ \t]|\d{1,9}[.)][ \t]|>|\|))")
_ATTRIBUTES = re.compile(r"[ \t]*\{:?[ \t]*[#.][^{}]*\}[ \t]*$")
_COMMENT_OR_CODE = re.compile(r"<!--|`+")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


def markdown_sections(text: str) -> list[Section]:
    """The sections of a Markdown document (see the module rules); ``[]`` if it has no text."""
    metadata, body = front_matter(text)
    body = _drop_comments(body)
    headings = list(_headings(body))
    if "title" not in metadata:
        title = next((heading for _, level, heading, _ in headings if level == 1), None)
        if title is not None:
            metadata["title"] = title
    sections: list[Section] = []
    _add(sections, body[: headings[0][0] if headings else len(body)], metadata)
    path = HeadingPath()
    opened: int | None = None  # where the text of a heading with none of its own began
    for index, (start, level, heading, heading_end) in enumerate(headings):
        following = headings[index + 1] if index + 1 < len(headings) else None
        end = following[0] if following is not None else len(body)
        own = {**metadata, "section": path.enter(level, heading), "heading_level": level}
        opened = start if opened is None else opened
        if following is not None and following[1] > level and not body[heading_end:end].strip():
            continue  # its lines open its first subsection's text
        _add(sections, body[opened:end], own)
        opened = None
    return sections


def fenced_blocks(text: str) -> list[Span]:
    """Character spans of the fenced code blocks of ``text`` (rule 3), from the opening fence's
    first mark to the closing fence's last (or the text's end, stripped, when unclosed)."""
    spans: list[Span] = []
    opened: tuple[int, str] | None = None
    for start, line in _lines(text):
        fence = _fence(line)
        if opened is None:
            if fence is not None:
                opened = (start + len(line) - len(line.lstrip()), fence[0])
        elif fence is not None and not fence[1].strip() and _closes(fence[0], opened[1]):
            spans.append((opened[0], start + len(line.rstrip())))
            opened = None
    if opened is not None:
        spans.append((opened[0], len(text.rstrip())))
    return spans


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Each line's start offset and its text, without the newline."""
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def _fence(line: str) -> tuple[str, str] | None:
    """``(marks, info)`` when ``line`` is a fence line."""
    match = _FENCE.match(line)
    if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return None
    return match.group(1), match.group(2)


def _closes(marks: str, opening: str) -> bool:
    return marks[0] == opening[0] and len(marks) >= len(opening)


def _drop_comments(text: str) -> str:
    """Rule 2: the text without HTML comments outside fenced code."""
    if "<!--" not in text:
        return text
    out: list[str] = []
    opening: str | None = None  # the fence we are in
    in_comment = blanked = False
    for _, line in _lines(text):
        if opening is not None:
            fence = _fence(line)
            if fence is not None and not fence[1].strip() and _closes(fence[0], opening):
                opening = None
            out.append(line)
            blanked = False
            continue
        kept, in_comment = _uncomment(line, in_comment)
        if kept.strip() or not line.strip():
            fence = _fence(kept)
            if fence is not None and not in_comment:
                opening = fence[0]
            out.append(kept)
            blanked = False
        elif not blanked:  # a line that held only comment: one blank line for a run of them
            out.append("")
            blanked = True
    return "\n".join(out)


def _uncomment(line: str, in_comment: bool) -> tuple[str, bool]:
    """``line`` without its comments (an inline code span on the line is kept whole)."""
    kept: list[str] = []
    rest = line
    while rest:
        if in_comment:
            end = rest.find("-->")
            if end < 0:
                return "".join(kept), True
            rest, in_comment = rest[end + 3 :], False
            continue
        match = _COMMENT_OR_CODE.search(rest)
        if match is None:
            kept.append(rest)
            break
        if match.group() == "<!--":
            kept.append(rest[: match.start()])
            rest, in_comment = rest[match.end() :], True
            continue
        close = re.compile(rf"(?<!`){match.group()}(?!`)").search(rest, match.end())
        end = close.end() if close is not None else match.end()  # no closing run: literal
        kept.append(rest[:end])
        rest = rest[end:]
    return "".join(kept), in_comment


def _headings(text: str) -> Iterator[tuple[int, int, str, int]]:
    """``(start, level, text, end)`` of each heading (rule 4): where its first line starts and
    its last line ends."""
    opening: str | None = None
    paragraph: list[tuple[int, str]] = []  # the lines of the paragraph being read
    for start, line in _lines(text):
        fence = _fence(line)
        if opening is not None:
            if fence is not None and not fence[1].strip() and _closes(fence[0], opening):
                opening = None
            continue
        if fence is not None:
            opening, paragraph = fence[0], []
            continue
        atx = _ATX.match(line)
        setext = _SETEXT.match(line)
        if atx is not None:
            paragraph = []
            heading = _clean(_ATX_CLOSING.sub("", atx.group(2) or ""))
            if heading:
                yield start, len(atx.group(1)), heading, start + len(line)
        elif setext is not None and paragraph and not _NOT_PARAGRAPH.match(paragraph[0][1]):
            heading = _clean(" ".join(text for _, text in paragraph))
            if heading:
                level = 1 if setext.group(1)[0] == "=" else 2
                yield paragraph[0][0], level, heading, start + len(line)
            paragraph = []
        elif not line.strip() or setext is not None:
            paragraph = []
        else:
            paragraph.append((start, line))


def _clean(heading: str) -> str:
    """Rule 5: a heading's text for its path."""
    return " ".join(_TAG.sub("", _ATTRIBUTES.sub("", heading)).split())


def _add(sections: list[Section], text: str, metadata: Metadata) -> None:
    text = text.strip()
    if text:
        sections.append(Section(text, dict(metadata)))
