"""Markdown sectioning: headings (ATX, setext), heading paths, front matter, comments, fences."""

from __future__ import annotations

from pathlib import Path

import pytest

from docqa.core import errors
from docqa.core.models import Metadata, Section
from docqa.ingest.formats.extraction import extract_sections
from docqa.ingest.formats.front_matter import front_matter
from docqa.ingest.formats.markdown import fenced_blocks, markdown_sections

DOCS = Path(__file__).resolve().parents[4] / "docs" / "eval" / "docs-set"


def paths(sections: list[Section]) -> list[object]:
    return [s.metadata.get("section") for s in sections]


def test_nested_atx_headings_give_heading_paths_and_levels() -> None:
    text = (
        "Intro before any heading.\n\n"
        "# Security\n\nAbout security.\n\n"
        "## Simple OAuth2\n\nOAuth text.\n\n"
        "### Get the username and password\n\nUse a form.\n\n"
        "## Scopes\n\nScope text.\n\n"
        "#### Deep one\n\nSkipped a level.\n\n"
        "### Sibling of deep\n\nText.\n"
    )
    sections = markdown_sections(text)
    assert sections[0] == Section("Intro before any heading.", {"title": "Security"})
    assert [(s.metadata.get("section"), s.metadata.get("heading_level")) for s in sections] == [
        (None, None),
        ("Security", 1),
        ("Security \u203a Simple OAuth2", 2),
        ("Security \u203a Simple OAuth2 \u203a Get the username and password", 3),
        ("Security \u203a Scopes", 2),
        ("Security \u203a Scopes \u203a Deep one", 4),
        ("Security \u203a Scopes \u203a Sibling of deep", 3),  # a ### after a #### is not under it
    ]
    assert sections[3].text == "### Get the username and password\n\nUse a form."
    assert all(s.metadata["title"] == "Security" for s in sections)


def test_atx_closing_hashes_anchors_and_inline_html_are_removed_markup_kept() -> None:
    text = (
        "# Guide #\n\nx\n\n"
        "## Install ##   \n\ny\n\n"
        "## C# is # not a closing run\n\nz\n\n"
        '### <a name="filter"></a> Filtering (--filter)\n\nf\n\n'
        "### `--autolock` and *Config* {#autolock}\n\na\n\n"
        "#NoSpace is not a heading\n\n"
        "    # indented four spaces: code\n\n"
        "####### seven is not a heading\n"
    )
    sections = markdown_sections(text)
    assert paths(sections) == [
        "Guide",
        "Guide \u203a Install",
        "Guide \u203a C# is # not a closing run",
        "Guide \u203a C# is # not a closing run \u203a Filtering (--filter)",
        "Guide \u203a C# is # not a closing run \u203a `--autolock` and *Config*",
    ]
    assert sections[1].text == "## Install ##   \n\ny"  # the section's text is kept as written
    assert sections[-1].text.endswith("####### seven is not a heading")


def test_setext_headings_and_thematic_breaks() -> None:
    text = (
        "Main Title\n==========\n\nIntro.\n\n"
        "A Part\n------\n\nPart text.\n\n"
        "---\n\nAfter a thematic break.\n\n"
        "A paragraph of\ntwo lines\n---\n\nUnder it.\n\n"
        "- a list item\n---\n\nNot a heading above.\n"
    )
    sections = markdown_sections(text)
    assert [(s.metadata.get("section"), s.metadata.get("heading_level")) for s in sections] == [
        ("Main Title", 1),
        ("Main Title \u203a A Part", 2),
        ("Main Title \u203a A paragraph of two lines", 2),
    ]
    assert sections[1].text == "A Part\n------\n\nPart text.\n\n---\n\nAfter a thematic break."
    assert sections[2].text.startswith("A paragraph of\ntwo lines\n---")
    assert sections[2].text.endswith("- a list item\n---\n\nNot a heading above.")
    assert sections[0].metadata["title"] == "Main Title"


def test_hashes_and_underlines_inside_code_fences_are_not_headings() -> None:
    text = (
        "# Real\n\n"
        "```bash\n# a shell comment\nls\n```\n\n"
        "~~~~\n```\n# nested shorter fence\n```\n## still code\n~~~~\n\n"
        "````markdown\nTitle\n=====\n```\n# inner\n```\n````\n\n"
        "## After\n\ntext\n"
    )
    sections = markdown_sections(text)
    assert paths(sections) == ["Real", "Real \u203a After"]
    assert "## still code\n~~~~" in sections[0].text


def test_a_heading_without_text_of_its_own_opens_its_first_subsection() -> None:
    text = (
        "# ps\n\nList containers.\n\n## Examples\n\n### All\n\nUse -a.\n\n### Size\n\ns\n\n"
        "Format\n------\n\n### Go templates\n\nt\n\n## Empty leaf\n\n## See also\n\nx\n"
    )
    sections = markdown_sections(text)
    assert paths(sections) == [
        "ps",
        "ps \u203a Examples \u203a All",
        "ps \u203a Examples \u203a Size",
        "ps \u203a Format \u203a Go templates",
        "ps \u203a Empty leaf",  # followed by a sibling: it keeps its own section
        "ps \u203a See also",
    ]
    assert sections[1].text == "## Examples\n\n### All\n\nUse -a."
    assert sections[1].metadata["heading_level"] == 3
    assert sections[3].text == "Format\n------\n\n### Go templates\n\nt"
    assert sections[4].text == "## Empty leaf"


def test_an_unclosed_fence_runs_to_the_end() -> None:
    sections = markdown_sections("# A\n\n```\n# not a heading\n\n## nor this\n")
    assert paths(sections) == ["A"]


def test_a_document_without_headings_is_one_section() -> None:
    text = "Just some text.\n\nAnother paragraph with a # hash.\n"
    assert markdown_sections(text) == [Section(text.strip())]
    assert extract_sections("markdown", text.encode()) == [Section(text.strip())]


def test_front_matter_becomes_metadata_and_leaves_the_text() -> None:
    text = (
        "---\n"
        'title: "Dockerfile reference"\n'
        "description: Build images\n"
        "weight: 3\n"
        "ratio: 0.5\n"
        "draft: false\n"
        "date: 2021-03-04\n"
        "keywords: [builder, docker]\n"
        "redirect_from:\n- /reference/builder/\n"
        "nested: {a: 1}\n"
        "mixed: [a, {b: 2}]\n"
        "empty:\n"
        "section: not allowed\n"
        "page: 9\n"
        "bad-key: dropped\n"
        "---\n\n"
        "Text before headings.\n\n# Usage\n\nbody\n"
    )
    sections = markdown_sections(text)
    expected: Metadata = {
        "title": "Dockerfile reference",
        "description": "Build images",
        "weight": 3,
        "ratio": 0.5,
        "draft": False,
        "date": "2021-03-04",
        "keywords": "builder, docker",
        "redirect_from": "/reference/builder/",
    }
    assert sections[0] == Section("Text before headings.", expected)
    # the front matter's title wins over the first level-1 heading
    assert sections[1] == Section(
        "# Usage\n\nbody", {**expected, "section": "Usage", "heading_level": 1}
    )


def test_without_front_matter_the_text_is_untouched() -> None:
    text = "Intro\n\n---\ntitle: x\n---\n"
    metadata, body = front_matter(text)
    assert (metadata, body) == ({}, text)
    # not at the very start: a thematic break, then a setext heading "title: x"
    assert paths(markdown_sections(text)) == [None, "title: x"]


def test_only_front_matter_has_no_extractable_text() -> None:
    with pytest.raises(errors.NoExtractableText):
        extract_sections("markdown", b"---\ntitle: Empty\n---\n\n<!-- nothing -->\n")


def test_html_comments_are_dropped_outside_code() -> None:
    text = (
        "<!-- licence\n# not a heading\nmore -->\n"
        "# Kept <!-- inline --> heading\n\n"
        "Before<!-- gone -->after.\n"
        "<!-- a -->\n<!-- b -->\n"
        "Next.\n\n"
        "```html\n<!-- kept in code -->\n```\n"
    )
    [section] = markdown_sections(text)
    assert section.metadata["section"] == "Kept heading"
    assert section.text == (
        "# Kept  heading\n\nBeforeafter.\n\nNext.\n\n```html\n<!-- kept in code -->\n```"
    )


def test_comment_marks_inside_inline_code_are_text() -> None:
    text = "# Tags\n\nWrite `<!--` to open a comment, ``a`b <!-- c`` too.<!-- gone -->\n"
    [section] = markdown_sections(text)
    assert section.text == "# Tags\n\nWrite `<!--` to open a comment, ``a`b <!-- c`` too."


def test_fenced_blocks_spans() -> None:
    text = "a\n  ```py\n  x = 1\n  ```\nb\n~~~\n```\n~~\n~~~~\n```` no close"
    spans = fenced_blocks(text)
    assert [text[s:e] for s, e in spans] == [
        "```py\n  x = 1\n  ```",
        "~~~\n```\n~~\n~~~~",
        "```` no close",
    ]
    # an inline code span with three backticks is not a fence
    assert fenced_blocks("```inline``` text\nmore") == []


def test_extraction_uses_markdown_sections_and_positions_are_deterministic() -> None:
    data = b"# A\n\none\n\n## B\n\ntwo\n"
    first = extract_sections("markdown", data)
    assert first == extract_sections("markdown", data)
    assert paths(first) == ["A", "A \u203a B"]


def test_every_labelled_section_of_the_documentation_set_is_a_heading_path() -> None:
    import json

    questions = json.loads((DOCS / "questions.json").read_text())
    labelled = [q for q in questions if q.get("section")]
    assert len(labelled) >= 30
    for question in labelled:
        text = (DOCS / "pages" / question["document"]).read_text()
        assert question["section"] in paths(markdown_sections(text)), question
