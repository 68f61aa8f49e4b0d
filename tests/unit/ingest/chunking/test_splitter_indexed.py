"""chunking.indexed_chunks: the indexed text that chunking counted is exactly what
context.indexed_texts gives the same chunks; the chunks (and their ids) are those
chunk_document gave with the request's metadata merged after, as before; and indexing a document
tokenizes fewer texts for it (no second pass over prefix + chunk)."""

# ruff: noqa: RUF001  (U+203A joins heading paths: the strings show it as it is)

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import replace

import pytest

from docqa.adapters.local_embedder import LocalEmbedder
from docqa.core.headings import SUMMARY_KEYS
from docqa.core.models import Chunk, DocumentRecord, Metadata, PendingDocument, Section
from docqa.core.ports import Tokenizer, TokenSpans
from docqa.ingest.chunking import context
from docqa.ingest.chunking.chunker import Chunker
from docqa.ingest.chunking.splitter import chunk_document, indexed_chunks
from docqa.ingest.indexing import index_documents
from support.fakes import (
    CharTokenizer,
    FakeCatalog,
    FakeEmbedder,
    FakeKeywordIndex,
    FakeStore,
    JoiningTokenizer,
    WordTokenizer,
)


def before(
    sections: Sequence[Section],
    tokenizer: Tokenizer,
    max_tokens: int,
    overlap: int,
    title: str | None,
    metadata: Metadata,
) -> list[Chunk]:
    """The chunks as the Chunker made them before ``indexed_chunks``: ``chunk_document``'s,
    then the request's metadata merged over each one's own."""
    chunks = chunk_document("doc", sections, tokenizer, max_tokens, overlap, title)
    return [replace(chunk, metadata={**chunk.metadata, **metadata}) for chunk in chunks]


def check(
    made: list[tuple[Chunk, str | None]], tokenizer: Tokenizer, max_tokens: int, limit: int
) -> list[bool]:
    """Each counted text is ``indexed_texts``'s for its chunk; which chunks were counted."""
    chunks = [chunk for chunk, _ in made]
    wanted = context.indexed_texts(chunks, tokenizer, max_tokens, limit)
    for (_, text), want in zip(made, wanted, strict=True):
        assert text is None or text == want
    return [text is not None for _, text in made]


def words(rng: random.Random, most: int) -> str:
    vocabulary = ["a", "tokenization", "of", "Ω", "x" * rng.randint(1, 30), "it's", "3.14", "API"]
    parts: list[str] = []
    for _ in range(rng.randint(0, most)):
        parts.append(rng.choice(vocabulary))
        parts.append(rng.choice([" ", " ", ". ", "! ", "\n", "\n\n", ", "]))
    return "".join(parts)


def document(rng: random.Random) -> tuple[list[Section], str | None, Metadata]:
    """Sections with or without a heading path and front matter's description/keywords, long
    or short, a title or none, and a request's metadata with or without its own summary."""
    sections = []
    for i in range(rng.randint(1, 4)):
        metadata: Metadata = {"n": i}
        if rng.random() < 0.6:
            metadata["section"] = " › ".join(words(rng, 6) or "h" for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.3:
            metadata["description"] = words(rng, 10)
        if rng.random() < 0.3:
            metadata["keywords"] = ", ".join(words(rng, 5).split())
        sections.append(Section(words(rng, rng.choice([5, 40, 200])), metadata))
    title = rng.choice([None, None, "Short title", words(rng, 30) or "t"])
    requests: list[Metadata] = [
        {},
        {"source": "text"},
        {"lang": "en", "source": "page.md"},
        {"description": words(rng, 8) or "d", "source": "text"},
        {"keywords": "alpha, beta", "page": 2},
    ]
    return sections, title, rng.choice(requests)


@pytest.mark.parametrize("tokenizer", [WordTokenizer(), CharTokenizer(), JoiningTokenizer()])
@pytest.mark.parametrize("seed", range(40))
def test_counted_texts_are_chunk_contexts_and_the_chunks_are_as_before(
    tokenizer: Tokenizer, seed: int
) -> None:
    rng = random.Random(seed)
    max_tokens = rng.randint(8, 80)
    overlap = rng.randint(0, max_tokens // 3)
    limit = rng.choice([max_tokens, max_tokens, max_tokens + rng.randint(1, 40), max_tokens - 2])
    sections, title, request = document(rng)
    made = indexed_chunks(
        "doc", sections, tokenizer, max_tokens, overlap, title=title, metadata=request, limit=limit
    )
    assert [chunk for chunk, _ in made] == before(
        sections, tokenizer, max_tokens, overlap, title, request
    )
    counted = check(made, tokenizer, max_tokens, limit)
    summary = any(key in request for key in SUMMARY_KEYS)
    if not summary and limit >= max_tokens and isinstance(tokenizer, WordTokenizer):
        assert all(counted)  # additive counts: rule 5 never gives up on the budget


@pytest.mark.minilm
@pytest.mark.parametrize("seed", range(6))
def test_the_model_tokenizer_counts_the_same_texts(seed: int) -> None:
    tokenizer = LocalEmbedder()
    rng = random.Random(900 + seed)
    max_tokens = rng.choice([16, 40, 128, tokenizer.spec.max_input_tokens])
    sections, title, request = document(rng)
    made = indexed_chunks("doc", sections, tokenizer, max_tokens, 4, title=title, metadata=request)
    assert [chunk for chunk, _ in made] == before(
        sections, tokenizer, max_tokens, 4, title, request
    )
    check(made, tokenizer, max_tokens, max_tokens)


def test_a_requests_own_summary_leaves_its_chunks_uncounted() -> None:
    """The budget is the section's prefix (so the chunks are as they always were); a request's
    description changes the indexed prefix, which indexed_texts then builds and checks."""
    text = " ".join(f"w{i}." for i in range(40))
    sections = [Section(text, {"section": "Part", "description": "From the page"})]
    tokenizer = WordTokenizer()
    plain = indexed_chunks("doc", sections, tokenizer, 40, 0, title="T", metadata={"lang": "en"})
    assert [text for _, text in plain] == [
        "T › Part\nFrom the page\n\n" + chunk.text for chunk, _ in plain
    ]
    own = indexed_chunks("doc", sections, tokenizer, 40, 0, title="T", metadata={"keywords": "k"})
    assert [text for _, text in own] == [None] * len(own)
    assert [c for c, _ in own] == before(sections, tokenizer, 40, 0, "T", {"keywords": "k"})


def test_over_the_limit_is_left_to_indexed_texts() -> None:
    """A limit under max_tokens: prefix and chunk counted over it are not given (indexed_texts
    cuts the prefix), those within it are."""
    text = " ".join(f"w{i}." for i in range(23))  # 2 tokens a sentence: 18 + 18 + 10
    tokenizer = WordTokenizer()
    made = indexed_chunks("doc", [Section(text)], tokenizer, 20, 0, title="T", limit=16)
    assert [t is None for _, t in made] == [True, True, False]  # 19, 19 and 11 tokens with "T"
    assert check(made, tokenizer, 20, 16) == [False, False, True]


# What ad4f37e's Chunker (chunk_document, then the request's metadata) gave these documents:
# the sha256 of their chunk ids joined by spaces (git worktree add /tmp/tok-before ad4f37e).
PAGE = (
    b"---\ntitle: Orchard guide\ndescription: Growing apples at home\nkeywords: apples, pruning\n"
    b"lang: fr\n---\n# Apples\n\n"
    + b"They grow on trees in most gardens. " * 12
    + b"\n\n## Pruning\n\n"
    + b"Cut in winter when the sap is down. " * 15
    + b"\n"
)
BODY = " ".join(f"Sentence number {i} of the plain request text." for i in range(30))
PINNED = [
    (
        PendingDocument(
            "c",
            "page.md",
            "h1",
            kind="markdown",
            data=PAGE,
            title="page.md",
            metadata={"lang": "en", "description": "Request description", "team": "docs"},
            source="page.md",
        ),
        11,
        "29bd6936d4880608",
    ),
    (
        PendingDocument(
            "c",
            "plain",
            "h2",
            data=BODY,
            title="Plain notes",
            metadata={"keywords": "alpha, beta", "page": 3},
        ),
        10,
        "6ac42c7027589fab",
    ),
    (PendingDocument("c", "bare", "h3", data=BODY, metadata={"lang": "de"}), 8, "e2d1ac007015fdf4"),
]


@pytest.mark.parametrize(("pending", "count", "digest"), PINNED, ids=lambda p: str(p)[:12])
def test_chunk_ids_with_a_requests_metadata_are_unchanged(
    pending: PendingDocument, count: int, digest: str
) -> None:
    ids = [chunk.id for chunk in Chunker(FakeEmbedder(), max_tokens=40, overlap=8)(pending)]
    assert len(ids) == count
    assert hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16] == digest


class CountingEmbedder(FakeEmbedder):
    """Counts ``token_spans`` calls and the texts they tokenized."""

    def __init__(self) -> None:
        super().__init__(max_input_tokens=64)
        self.tokenize_calls = self.tokenized = 0

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        self.tokenize_calls += 1
        self.tokenized += len(texts)
        return super().token_spans(texts)


@pytest.mark.parametrize(
    ("metadata", "extra_calls"), [({"lang": "en"}, 0), ({"description": "Own words"}, 2)]
)
def test_indexing_tokenizes_what_chunking_did_not(metadata: Metadata, extra_calls: int) -> None:
    """Without a summary of the request's own, indexing a document tokenizes only what chunking
    does (before: indexed_texts' prefixes and prefix + chunk again); with one, those chunks go
    through indexed_texts as before. Either way the indexes get indexed_texts' texts."""
    body = ("An apple a day keeps the doctor away. " * 40).strip()
    document = PendingDocument("c", "d", "h", data=body, title="Guide", metadata=metadata)
    catalog, store, keywords = FakeCatalog(), FakeStore(), FakeKeywordIndex()
    catalog.put([DocumentRecord("d", "c", "Guide", {}, "text", "h", "queued", "job")])

    chunking = CountingEmbedder()
    chunks = Chunker(chunking, max_tokens=20, overlap=4)(document)
    indexing = CountingEmbedder()
    chunker = Chunker(indexing, max_tokens=20, overlap=4)
    report = index_documents(
        [document],
        embedder=indexing,
        store=store,
        keywords=keywords,
        catalog=catalog,
        chunker=chunker,
        progress=lambda done, total: None,
    )
    assert report.indexed == {"d": len(chunks)} and len(chunks) > 5
    assert indexing.tokenize_calls == chunking.tokenize_calls + extra_calls
    checking = CountingEmbedder()
    wanted = Chunker(checking, max_tokens=20, overlap=4).indexed_texts(chunks)
    assert (
        checking.tokenize_calls == 2 and checking.tokenized == len(chunks) + 1
    )  # what was tokenized again
    assert indexing.tokenized == chunking.tokenized + (checking.tokenized if extra_calls else 0)
    assert [keywords.indexed["c"][chunk.id] for chunk in chunks] == wanted
