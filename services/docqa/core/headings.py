"""Heading paths: where a stretch of a document sits under its headings, for every format (pure).

Rule (Markdown, HTML, Word and PDF outlines alike): a heading of level ``L`` closes every open
heading of level ``L`` or deeper and opens its own, so levels nest as the document writes them (a
level 2 after a level 3 is not under it; a skipped level is simply absent). A section's path is the
texts of the open headings, outermost first, joined by ``SEPARATOR`` (U+203A, the single
right-pointing angle quotation mark, with a space each side), e.g. "Security U+203A Simple OAuth2
U+203A Get the username and password": the convention of the documentation evaluation set
(``docs/eval/docs-set/README.md``). Each format cleans its heading texts before they enter a path
(whitespace collapsed to one space; see each module). In Markdown, HTML and Word a heading with
no text of its own followed by a deeper one opens no section of its own: its text opens its
first subsection's, so no chunk is a heading alone.

Metadata keys the extractors write into a section (``Section.metadata``), all optional:

- ``section`` (str): the heading path; absent for text before the first heading (PowerPoint:
  the slide's title, one level, no ``heading_level``).
- ``heading_level`` (int): the level of the section's own heading (Markdown/HTML 1-6; Word 0 for
  the ``Title`` style, 1-9 for ``Heading N``; PDF the outline depth, from 1).
- ``title`` (str): the document's title as the file states it (Markdown front matter ``title`` or
  the first level-1 heading, HTML ``<title>`` or the first ``h1``, Word's core property or its
  first ``Title``/``Heading 1`` paragraph), the same in every section of the document.
- ``page`` (PDF), ``slide`` (PowerPoint); and, from Markdown front matter, other keys of the file's
  own (``docqa.ingest.formats.front_matter``), never one of ``RESERVED_KEYS``.
"""

from __future__ import annotations

SEPARATOR = " \u203a "

# The keys the service writes into each chunk's metadata itself: the same set as
# ``docqa.api.schemas.fields.RESERVED_KEYS`` (a unit test keeps the two equal; this core module does
# not import the API layer).
RESERVED_KEYS = frozenset(
    {"document_id", "position", "source", "title", "page", "slide", "section", "heading_level"}
    | {"start", "end"}
)

# A page's own search metadata (Markdown front matter, HTML ``<meta name=...>``): every section
# of the page carries it, and each chunk is indexed after it (``ingest.chunking.context``).
SUMMARY_KEYS = ("description", "keywords")


class HeadingPath:
    """The headings open at a point of a document, fed in document order."""

    def __init__(self) -> None:
        self._open: list[tuple[int, str]] = []

    def enter(self, level: int, text: str) -> str:
        """Open a heading of ``level`` (closing those at that level or deeper); its path."""
        while self._open and self._open[-1][0] >= level:
            self._open.pop()
        self._open.append((level, text))
        return self.path

    @property
    def path(self) -> str:
        return SEPARATOR.join(text for _, text in self._open)


def one_line(text: str | None) -> str:
    """``text`` with its white space folded to single spaces, on one line."""
    return " ".join((text or "").split())


def heading_path(title: str | None, section: str | None) -> str:
    """``title + SEPARATOR + section``, without repeating a title the section starts with."""
    title, section = one_line(title), one_line(section)
    if not title or not section:
        return title or section
    folded_title, folded_section = title.casefold(), section.casefold()
    if folded_section == folded_title or folded_section.startswith(
        folded_title + SEPARATOR.casefold()
    ):
        return section
    return title + SEPARATOR + section
