"""HTML sections: h1-h6 heading paths and levels, the title, and the text html_to_text keeps."""

from __future__ import annotations

from docqa.core.headings import SEPARATOR
from docqa.core.models import Section
from docqa.ingest.formats.extraction import extract_sections
from docqa.ingest.formats.html import html_sections, html_to_text

PAGE = """<!DOCTYPE html>
<html><head><title>Security guide</title></head>
<body>
  <nav>Home | Docs</nav>
  <h1>Security</h1>
  <p>About security.</p>
  <h2>Simple   OAuth2</h2>
  <p>OAuth text.<br>Second line.</p>
  <h3><a href="#x">Get the <code>username</code></a> and password</h3>
  <ul><li>one</li><li>two</li></ul>
  <h2>Scopes</h2>
  <div><h4>Deep one</h4><p>Skipped a level.</p></div>
  <h3>Sibling of deep</h3>
  <p>Last.</p>
  <h5>   </h5>
  <p>After an empty heading.</p>
  <!-- <h2>commented out</h2> -->
  <script>var h = "<h2>not a heading</h2>";</script>
</body></html>"""


def path(*parts: str) -> str:
    return SEPARATOR.join(parts)


def test_h1_to_h6_nest_into_heading_paths() -> None:
    sections = html_sections(PAGE)
    assert [(s.metadata.get("section"), s.metadata.get("heading_level")) for s in sections] == [
        (None, None),
        (path("Security"), 1),
        (path("Security", "Simple OAuth2"), 2),
        (path("Security", "Simple OAuth2", "Get the username and password"), 3),
        (path("Security", "Scopes", "Deep one"), 4),  # Scopes has no text: it opens Deep one
        (path("Security", "Scopes", "Sibling of deep"), 3),  # an h3 after an h4 is not under it
    ]
    assert all(s.metadata["title"] == "Security guide" for s in sections)
    assert sections[0] == Section("Security guide\n\nHome | Docs", {"title": "Security guide"})
    assert sections[2].text == "Simple OAuth2\n\nOAuth text.\nSecond line."
    assert sections[3].text == "Get the username and password\n\none\n\ntwo"
    assert sections[4].text == "Scopes\n\nDeep one\n\nSkipped a level."
    assert sections[-1].text == "Sibling of deep\n\nLast.\n\nAfter an empty heading."


def test_the_sections_joined_are_the_visible_text() -> None:
    text = html_to_text(PAGE)
    assert text == "\n\n".join(s.text for s in html_sections(PAGE))
    assert "commented out" not in text and "not a heading" not in text
    assert extract_sections("html", PAGE.encode()) == html_sections(PAGE)


def test_without_a_title_element_the_first_h1_is_the_title() -> None:
    html = "<body><h2>Intro</h2><p>a</p><h1>Main</h1><p>b</p><h1>Other</h1></body>"
    sections = html_sections(html)
    assert [s.metadata for s in sections] == [
        {"title": "Main", "section": "Intro", "heading_level": 2},
        {"title": "Main", "section": "Main", "heading_level": 1},
        {"title": "Main", "section": "Other", "heading_level": 1},
    ]


def test_a_title_the_body_lacks_opens_the_first_section_with_text() -> None:
    html = "<html><head><title>Report</title></head><body><h2>Part</h2><p>x</p></body></html>"
    assert html_sections(html) == [
        Section("Report\n\nPart\n\nx", {"title": "Report", "section": "Part", "heading_level": 2})
    ]
    assert html_sections("<title>Only</title><body> </body>") == [
        Section("Only", {"title": "Only"})
    ]


def test_a_page_without_headings_or_title_is_one_section_without_metadata() -> None:
    assert html_sections("<p>Plain <b>page</b>.</p><p>Two.</p>") == [Section("Plain page.\n\nTwo.")]
    assert html_sections("<div><script>x()</script></div>") == []


def test_headings_without_text_of_their_own_open_their_first_subsection() -> None:
    html = "<h1>A</h1><h2>B</h2><h3>C</h3><p>c</p><h3>D</h3><h2>E</h2><p>e</p>"
    sections = html_sections(html)
    assert [(s.metadata["section"], s.text) for s in sections] == [
        (path("A", "B", "C"), "A\n\nB\n\nC\n\nc"),
        (path("A", "B", "D"), "D"),  # followed by a shallower heading: its own section
        (path("A", "E"), "E\n\ne"),
    ]
    assert html_to_text(html) == "\n\n".join(s.text for s in sections)


def test_the_meta_description_and_keywords_are_every_sections_metadata_not_text() -> None:
    html = (
        "<html><head><title>cp</title>"
        '<META NAME="Description" content="Copy files\n  between a container and the host">'
        '<meta name="keywords" content="copy, container, files">'
        '<meta name="author" content="someone"></head>'
        "<body><h1>cp</h1><p>Usage.</p><h2>Examples</h2><p>One.</p></body></html>"
    )
    sections = html_sections(html)
    summary = {
        "description": "Copy files between a container and the host",
        "keywords": "copy, container, files",
    }
    assert [s.metadata.items() >= summary.items() for s in sections] == [True, True]
    assert all("author" not in s.metadata for s in sections)
    assert "Copy files" not in html_to_text(html)


def test_empty_or_missing_meta_content_adds_nothing() -> None:
    html = '<head><meta name="description" content="  "><meta name="keywords"></head><p>Text.</p>'
    assert html_sections(html) == [Section("Text.")]
