"""Chunking rule 1 for code: a fenced block is one piece, kept whole when it fits in a chunk."""

from __future__ import annotations

import itertools

from docqa.core.models import Section
from docqa.ingest.chunking.splitter import chunk_document, split_sentences
from support.fakes import WordTokenizer

CODE = "```python\n# Step one. Load it.\nx = load()\n\ny = x.run()  # Done! Next.\n```"


def pieces(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_a_fenced_block_is_one_sentence() -> None:
    text = f"Run this. Then:\n{CODE}\nAfter it. End."
    assert pieces(text) == ["Run this.", "Then:", CODE, "After it.", "End."]


def test_tilde_fences_and_shorter_fences_nested_in_longer_ones() -> None:
    nested = "~~~~md\nText. More\n\n```\ninner. code\n```\n\nstill in. block\n~~~~"
    assert pieces(f"A.\n{nested}\nB.") == ["A.", nested, "B."]
    backticks = "````\n```\nx. y\n\nz\n```\n````"
    assert pieces(f"{backticks}\n\nTail.") == [backticks, "Tail."]


def test_an_unclosed_fence_is_one_piece_to_the_end() -> None:
    assert pieces("Intro.\n```\na. b\n\nc") == ["Intro.", "```\na. b\n\nc"]


def test_a_block_that_fits_is_never_cut() -> None:
    before = " ".join(f"Sentence {i}." for i in range(6))  # 3 tokens each
    text = f"{before}\n{CODE}\nAfter. The end."
    code_tokens = len(WordTokenizer().token_spans([CODE])[0])
    max_tokens = code_tokens + 4
    chunks = chunk_document("doc", [Section(text)], WordTokenizer(), max_tokens, overlap=3)
    holding = [c for c in chunks if "x = load()" in c.text]
    assert len(holding) == 1
    assert CODE in holding[0].text
    assert not any("```" in c.text and CODE not in c.text for c in chunks)
    for chunk in chunks:
        assert len(WordTokenizer().token_spans([chunk.text])[0]) <= max_tokens


def test_a_block_longer_than_a_chunk_is_windowed() -> None:
    body = "\n".join(f"line{i} = value{i}. # note{i}" for i in range(30))
    code = f"```\n{body}\n```"
    text = f"Before.\n{code}\nAfter."
    chunks = chunk_document("doc", [Section(text)], WordTokenizer(), max_tokens=20, overlap=4)
    texts = [c.text for c in chunks]
    assert texts[0] == "Before."
    assert texts[-1] == "After."
    windows = texts[1:-1]
    assert len(windows) > 2
    assert windows[0].startswith("```") and windows[-1].endswith("```")
    spans = [(int(c.metadata["start"]), int(c.metadata["end"])) for c in chunks]
    for chunk, (start, end) in zip(chunks, spans, strict=True):
        assert len(WordTokenizer().token_spans([chunk.text])[0]) <= 20
        assert text[start:end] == chunk.text
    # windows overlap and together cover the whole block
    covered = sorted(spans[1:-1])
    assert covered[0][0] == text.index("```")
    assert covered[-1][1] == text.index("```", text.index("```") + 3) + 3
    assert all(b[0] <= a[1] for a, b in itertools.pairwise(covered))


def test_markdown_sections_chunk_deterministically_and_never_across_sections() -> None:
    from docqa.ingest.formats.extraction import extract_sections

    body = " ".join(f"Word{i} here." for i in range(40))
    code = "```sh\n# not a heading\n" + "\n".join(f"echo {i}" for i in range(30)) + "\n```"
    markdown = f"---\ntitle: Guide\n---\n# Install\n\n{body}\n\n## Linux\n\n{code}\n\n## Mac\n\nok."
    sections = extract_sections("markdown", markdown.encode())
    assert [s.metadata.get("section") for s in sections] == [
        "Install",
        "Install \u203a Linux",
        "Install \u203a Mac",
    ]
    first = chunk_document("d", sections, WordTokenizer(), max_tokens=25, overlap=5)
    again = chunk_document(
        "d", extract_sections("markdown", markdown.encode()), WordTokenizer(), 25, 5
    )
    assert [c.id for c in first] == [c.id for c in again]
    assert [c.position for c in first] == list(range(len(first)))
    for chunk in first:
        [owner] = [s for s in sections if s.metadata["section"] == chunk.metadata["section"]]
        start, end = int(chunk.metadata["start"]), int(chunk.metadata["end"])
        assert owner.text[start:end] == chunk.text  # a slice of its own section only
        assert chunk.metadata["title"] == "Guide"
    assert {c.metadata["section"] for c in first} == {s.metadata["section"] for s in sections}
