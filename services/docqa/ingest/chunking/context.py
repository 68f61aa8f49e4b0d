"""What is embedded and keyword-indexed for a chunk: its text prefixed by its context (pure).

The form. A chunk whose metadata carries a document ``title`` and/or a heading path
``section`` (headings joined by ``SEPARATOR``, " U+203A ") is indexed as::

    "<title> U+203A <section>\\n<description>; <keywords>\\n\\n<chunk text>"

- ``heading_path(title, section)``: the title, then the section; the title is left out when the
  section already starts with it (a Markdown page whose first heading is its title), compared
  without regard to case and runs of whitespace. Either alone when the other is missing; no
  prefix at all when both are. Whitespace inside each (newlines included) is collapsed to single
  spaces, so the path is one line.
- ``SUMMARY_KEYS`` (``description``, ``keywords``): the page's own search metadata, as a Markdown
  page's front matter gives it (or a request's metadata), follows the path on a line of its
  own, each value collapsed to one line and the two joined by "; ". Documentation sites put what
  a page is about there (``keywords: "copy, container, files, folders"`` on the ``cp`` page),
  words its body may never use; the flat reading of a page indexed them as text of its first
  chunk, and front matter is metadata now, so they are indexed as context of every chunk.
- ``PREFIX_BREAK`` ("\\n\\n") separates the path (and summary) from the text.
- The prefix is bounded: at most ``cap(max_tokens)`` = ``max_tokens // 4`` tokens of the
  embedding model (the path and the break tokenized together), the path (and summary) cut by
  tokens at its end, so the summary goes first (at the last cut between words that fits, else
  between tokens) when it is longer.

It is a function of the chunk's stored metadata (``title``, ``section``, ``SUMMARY_KEYS``), the
tokenizer and the chunk budget alone, so a reindex into a collection of another model rebuilds
it from what Chroma holds. What is stored and returned as the chunk's ``text`` stays the exact
slice of the document; only the embedder and the keyword index see the prefix.

The budget. ``chunking.chunk_document`` counts the prefix in the chunk's budget: the prefix and
the chunk's text, tokenized *together*, have at most ``max_tokens`` tokens. ``indexed_texts``
applies the same rule with a ``limit`` (the model's max input): a stored chunk cut for another
model whose prefixed text would be over it gets a prefix cut further by tokens, down to none (a
chunk over the limit by itself is then the embedder's to truncate, as before prefixes). Chunking
keeps its counts (``chunking.indexed_chunks``), so a freshly cut chunk whose prefix is the one
its budget used has its indexed text without this second pass; copies and imports take it.

Chunks indexed before prefixes existed carry no prefix in their vectors or keyword terms until
``reindex`` writes them anew (their ids, which name text and metadata, do not change).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from docqa.core.headings import SUMMARY_KEYS, heading_path, one_line
from docqa.core.models import Chunk, MetadataValue
from docqa.core.ports import Tokenizer, TokenSpans

PREFIX_BREAK = "\n\n"
CAP_DIVISOR = 4  # the prefix takes at most a quarter of the chunk budget


def prefix(title: str | None, section: str | None, summary: str | None = None) -> str:
    """The whole (uncapped) prefix: the heading path, the summary on a line of its own, and
    ``PREFIX_BREAK``; or ``""`` when there is none of them."""
    lines = [line for line in (heading_path(title, section), one_line(summary)) if line]
    return "\n".join(lines) + PREFIX_BREAK if lines else ""


def _text(value: MetadataValue | None) -> str | None:
    return None if value is None or isinstance(value, bool) else str(value)


def metadata_prefix(metadata: Mapping[str, MetadataValue]) -> str:
    """``prefix`` of a chunk's metadata (its ``title``, ``section`` and ``SUMMARY_KEYS``)."""
    values = (one_line(_text(metadata.get(key))) for key in SUMMARY_KEYS)
    summary = "; ".join(value for value in values if value)
    return prefix(_text(metadata.get("title")), _text(metadata.get("section")), summary)


def cap(max_tokens: int) -> int:
    """The most tokens a prefix may take of a chunk budget of ``max_tokens``."""
    return max_tokens // CAP_DIVISOR


def capped(prefixes: Sequence[str], tokenizer: Tokenizer, limit: int) -> list[tuple[str, int]]:
    """Each prefix cut to at most ``limit`` tokens, with its token count (``("", 0)`` when even
    one token of its path does not fit). Distinct prefixes are tokenized once, in one call."""
    distinct = sorted(set(prefixes) - {""})
    done: dict[str, tuple[str, int]] = {"": ("", 0)}
    if distinct:
        for whole, spans in zip(distinct, tokenizer.token_spans(distinct), strict=True):
            done[whole] = (
                (whole, len(spans)) if len(spans) <= limit else _cut(whole, tokenizer, limit)
            )
    return [done[p] for p in prefixes]


def _cut(whole: str, tokenizer: Tokenizer, limit: int) -> tuple[str, int]:
    """The prefix ``whole`` with its path cut by tokens so that it has at most ``limit``."""
    path = whole[: -len(PREFIX_BREAK)]
    [spans] = tokenizer.token_spans([path])
    keep = min(limit, len(spans))
    while keep > 0:
        candidate = _head(path, spans, keep) + PREFIX_BREAK
        [found] = tokenizer.token_spans([candidate])
        if len(found) <= limit:
            return candidate, len(found)
        keep -= max(1, len(found) - limit)
    return "", 0


def _head(path: str, spans: TokenSpans, keep: int) -> str:
    """The path's first ``keep`` tokens, cut at the last gap between words among them when
    there is one in their second half (a word's start tokenizes differently), whitespace
    stripped."""
    cut = keep
    for k in range(keep, max(1, keep // 2), -1):
        if k == len(spans) or spans[k][0] > spans[k - 1][1]:
            cut = k
            break
    return path[: spans[cut - 1][1]].rstrip()


def indexed_texts(
    chunks: Sequence[Chunk], tokenizer: Tokenizer, max_tokens: int, limit: int | None = None
) -> list[str]:
    """What the embedder and the keyword index get for each chunk: its metadata's prefix, capped
    at ``cap(max_tokens)`` tokens, then its text; together at most ``limit`` (default
    ``max_tokens``) tokens, the prefix cut further by tokens (down to none) where needed."""
    limit = max_tokens if limit is None else limit
    prefixes = capped([metadata_prefix(c.metadata) for c in chunks], tokenizer, cap(max_tokens))
    texts = [p + c.text for (p, _), c in zip(prefixes, chunks, strict=True)]
    with_prefix = [i for i, (p, _) in enumerate(prefixes) if p]
    if not with_prefix:
        return texts
    counts = tokenizer.token_spans([texts[i] for i in with_prefix])
    for i, spans in zip(with_prefix, counts, strict=True):
        over = len(spans) - limit
        if over > 0:
            texts[i] = _fit(prefixes[i], chunks[i].text, over, tokenizer, limit)
    return texts


def _fit(prefixed: tuple[str, int], text: str, over: int, tokenizer: Tokenizer, limit: int) -> str:
    """``prefix + text`` over ``limit`` by ``over`` tokens: the prefix cut by tokens until the
    two fit together, or left out."""
    whole, size = prefixed
    budget = size - over
    while budget > 0:
        cut, size = _cut(whole, tokenizer, budget)
        if not cut:
            break
        [found] = tokenizer.token_spans([cut + text])
        if len(found) <= limit:
            return cut + text
        budget = min(budget - 1, size - (len(found) - limit))
    return text
