"""HTML -> visible text, in sections that follow its ``h1``-``h6`` headings (pure).

Text rules (BeautifulSoup with the stdlib ``html.parser``, imported lazily so that the API
process, which only checks uploads, never loads it):

- Scripts, styles, templates, comments and the ``<head>`` are dropped. Block elements
  (paragraphs, headings, list items, table rows, ...) become paragraphs separated by a blank line,
  ``<br>`` a line break, table cells a space, other whitespace collapses to one space.
- The ``<title>`` is put first unless the body text already starts with it (so a title repeated
  in an ``<h1>`` is not duplicated).

Sections: each ``h1``-``h6`` with text opens a section that runs to the next one; its text starts
with the heading's. Its metadata is ``{"section": path, "heading_level": n}``, the path built
from the headings' texts (whitespace collapsed) as ``headings.HeadingPath`` says. A heading with
no text of its own followed by a deeper one opens no section of its own: its text opens its first
subsection's (as in ``docqa.ingest.formats.markdown``). Text before the first heading is a section
without those keys. The title put first goes into the first section
with text (no section of the title alone when a heading comes first). Every section carries
``title``: the ``<title>``'s text, else the first ``h1``'s; and ``description`` and ``keywords``
from the page's ``<meta name="description">`` and ``<meta name="keywords">`` (names compared
without regard to case, content whitespace collapsed, empty ones left out): what a page says it
is about, indexed as every chunk's context (``docqa.ingest.chunking.context``) like a Markdown
page's front matter. The sections' texts joined by a blank line are ``html_to_text``'s text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from docqa.core.headings import SUMMARY_KEYS, HeadingPath
from docqa.core.models import Metadata, Section

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

_DROPPED_TAGS = ("head", "title", "script", "style", "noscript", "template", "svg", "canvas")
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", *_HEADING_TAGS,
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "tr", "ul", "caption",
)  # fmt: skip
# Private-use sentinels put into the tree: a paragraph break, a line break (both turned into
# "\n\n" and "\n" after get_text()) and the start of a heading's section.
_PARAGRAPH = "\ue000"
_LINE = "\ue001"
_HEADING = "\ue002"
_BREAKS = re.compile(rf"[\s{_PARAGRAPH}{_LINE}]*[{_PARAGRAPH}{_LINE}][\s{_PARAGRAPH}{_LINE}]*")


def html_to_text(html: str) -> str:
    """The visible text of an HTML document (see the module rules)."""
    return "\n\n".join(section.text for section in html_sections(html))


def html_sections(html: str) -> list[Section]:
    """The visible text of an HTML document in sections (see the module rules); ``[]`` if none."""
    from bs4 import BeautifulSoup
    from bs4.element import CData, PreformattedString

    soup = BeautifulSoup(html, "html.parser")
    title = _collapse(soup.title.get_text()) if soup.title else ""
    summary = _summary(soup)
    for node in list(soup.descendants):  # comments, doctype, declarations, <?...?>
        if isinstance(node, PreformattedString) and not isinstance(node, CData):
            node.extract()
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    headings: list[tuple[int, str]] = []
    for tag in soup.find_all(_HEADING_TAGS):
        text = _collapse(tag.get_text())
        if text:
            tag.insert_before(_HEADING)
            headings.append((int(tag.name[1]), text))
    _mark_breaks(soup)
    raw = _BREAKS.sub(_break_for, _collapse(soup.get_text()))
    preface, *pieces = raw.split(_HEADING)
    base: Metadata = dict(summary)
    title = title or next((text for level, text in headings if level == 1), "")
    if title:
        base["title"] = title
    texts = [preface.strip()] + [piece.strip() for piece in pieces]
    first = next((index for index, text in enumerate(texts) if text), 0)
    if title and not texts[first].startswith(title):  # into the first section with text
        texts[first] = f"{title}\n\n{texts[first]}" if texts[first] else title
    sections: list[Section] = []
    if texts[0]:
        sections.append(Section(texts[0], dict(base)))
    path = HeadingPath()
    carried: list[str] = []  # headings with no text of their own, opening their subsection
    for index, ((level, heading), text) in enumerate(zip(headings, texts[1:], strict=True)):
        metadata = {**base, "section": path.enter(level, heading), "heading_level": level}
        following = headings[index + 1][0] if index + 1 < len(headings) else 0
        if text == heading and following > level:
            carried.append(text)
            continue
        text, carried = "\n\n".join([*carried, text] if text else carried), []
        if text:
            sections.append(Section(text, metadata))
    return sections


def _summary(soup: BeautifulSoup) -> Metadata:
    """The page's ``<meta>`` description and keywords (see the module rules)."""
    from bs4.element import Tag

    found: Metadata = {}
    for key in SUMMARY_KEYS:
        tag = soup.find("meta", attrs={"name": re.compile(f"^{key}$", re.IGNORECASE)})
        content = _collapse(str(tag.get("content") or "")) if isinstance(tag, Tag) else ""
        if content:
            found[key] = content
    return found


def _mark_breaks(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(_PARAGRAPH)
        tag.insert_after(_PARAGRAPH)
    for tag in soup.find_all("br"):
        tag.replace_with(_LINE)
    for tag in soup.find_all(("td", "th")):
        tag.insert_after(" ")


def _break_for(match: re.Match[str]) -> str:
    return "\n\n" if _PARAGRAPH in match.group() else "\n"


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
