"""Sections -> chunks, measured in tokens of the embedding model's tokenizer (pure).

Rules, per section (chunks never cross sections):

1. Sentences. A fenced code block (``markdown.fenced_blocks``: fences of 3+ backticks or
   tildes, shorter ones nested inside longer) is one piece, from its opening fence to its
   closing one: nothing inside it is a cut point. Elsewhere the section text is cut after ``.``,
   ``!`` or ``?`` (plus any closing quotes or brackets) followed by whitespace, and at blank
   lines (paragraph breaks). Each piece is stripped; whitespace-only pieces vanish. Deliberately
   simple: "e.g. this" is cut after "e.g.", which only costs a slightly earlier chunk boundary.
   A code block longer than a chunk is windowed like any long sentence (rule 3).
2. Packing. All sentences of a section are tokenized in one batched call (with an additive
   tokenizer, read from one tokenization of the whole section: ``chunking.counts``, which
   serves rules 4 and 5 too) and packed greedily, whole, into chunks of at most ``max_tokens``
   tokens. When a chunk is full the next one starts with the previous chunk's trailing whole
   sentences totalling at most ``overlap`` tokens (never all of them, so every chunk brings
   something new).
3. Long sentences. A sentence of more than ``max_tokens`` tokens closes the current chunk and is
   cut into token windows of ``max_tokens`` tokens overlapping by ``overlap`` tokens, preferring
   cuts between words (where the token spans leave a gap). The next chunk starts afresh.
4. Invariant. Every chunk's own text, tokenized again, has at most ``max_tokens`` tokens. Token
   counts are not always additive (a tokenizer may count the whitespace between sentences, or a
   window starting mid-word), so the chunk texts are tokenized once more in one batch and any over
   the limit are re-cut into token windows, shrinking the window until all fit (a ``ValueError``
   if even one token's text is over the limit: only possible for tiny limits). Chunks with no
   tokens at all are dropped.

A chunk's text is the exact slice ``section.text[start:end]`` (no surrounding whitespace); its
metadata is the section's plus ``start``/``end`` (and ``title``, rule 5). Positions run 0..n-1
over the whole document, so the same input always gives the same chunks and the same
``Chunk.id``\\s.

5. Context. The document's title (``title``, else the first ``"title"`` in the sections'
   metadata) goes into every chunk's metadata, and each chunk is indexed prefixed by its title
   and heading path (``docqa.ingest.chunking.context``: ``"<title> U+203A <section>\\n\\n"``, at
   most a quarter of ``max_tokens``). The prefix counts in the budget: a section is cut into chunks
   of ``max_tokens`` less its prefix's tokens, and the prefix and each chunk, tokenized together,
   have at most ``max_tokens`` tokens (where they do not, as token counts are not additive, the
   budget shrinks by the excess and the section is cut again). The chunk's text stays the slice.
   Those counts are kept (``indexed_chunks``): a chunk whose prefix and text counted at most
   the model's ``limit`` is indexed as ``prefix + text`` without tokenizing either again, which
   is what ``context.indexed_texts`` gives it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from docqa.core.models import Chunk, Metadata, Section
from docqa.core.ports import Tokenizer
from docqa.ingest.chunking import context
from docqa.ingest.chunking.counts import SectionTokens
from docqa.ingest.chunking.windows import windows
from docqa.ingest.formats.markdown import fenced_blocks

Span = tuple[int, int]

# End of a sentence: terminal punctuation, optional closing quotes/brackets, then whitespace;
# or a blank line. A cut falls at the end of the match.
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+|\n[^\S\n]*\n\s*")


def chunk_document(
    document_id: str,
    sections: Sequence[Section],
    tokenizer: Tokenizer,
    max_tokens: int,
    overlap: int,
    title: str | None = None,
) -> list[Chunk]:
    """Split ``sections`` into chunks whose text, with its context prefix (rule 5), has at most
    ``max_tokens`` tokens (see the module rules)."""
    made = indexed_chunks(document_id, sections, tokenizer, max_tokens, overlap, title=title)
    return [chunk for chunk, _ in made]


def indexed_chunks(
    document_id: str,
    sections: Sequence[Section],
    tokenizer: Tokenizer,
    max_tokens: int,
    overlap: int,
    *,
    title: str | None = None,
    metadata: Metadata | None = None,
    limit: int | None = None,
) -> list[tuple[Chunk, str | None]]:
    """``chunk_document``'s chunks, ``metadata`` (a request's) over each one's own, each with
    ``context.indexed_texts(chunks, tokenizer, max_tokens, limit)``'s text for it where
    rule 5 counted it: no prefix, or the prefix the budget used with at most ``limit`` tokens
    together. ``None`` elsewhere: over ``limit``, or where ``metadata`` changes the prefix (its
    own ``description``, say: the budget, so the chunks and their ids, stay the section's)."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    if not 0 <= overlap < max_tokens:
        raise ValueError("overlap must be at least 0 and smaller than max_tokens")
    title = title or next(
        (str(s.metadata["title"]) for s in sections if s.metadata.get("title")), None
    )
    named = [{**s.metadata, "title": title} if title else dict(s.metadata) for s in sections]
    extra, limit = metadata or {}, max_tokens if limit is None else limit
    wholes = [context.metadata_prefix(m) for m in named]
    prefixes = context.capped(wholes, tokenizer, context.cap(max_tokens))
    made: list[tuple[Chunk, str | None]] = []
    for section, base, whole, prefixed in zip(sections, named, wholes, prefixes, strict=True):
        same = not extra or context.metadata_prefix({**base, **extra}) == whole
        for (start, end), count in _prefixed_spans(
            section.text, prefixed, tokenizer, max_tokens, overlap
        ):
            text = section.text[start:end]
            chunk = Chunk(
                document_id, len(made), text, {**base, "start": start, "end": end, **extra}
            )
            indexed = None if not same or count > limit else prefixed[0] + text
            made.append((chunk, indexed))
    return made


def _prefixed_spans(
    text: str, prefixed: tuple[str, int], tokenizer: Tokenizer, max_tokens: int, overlap: int
) -> list[tuple[Span, int]]:
    """Rule 5: chunks of ``max_tokens`` less the prefix's tokens; a budget that the prefix and a
    chunk tokenized together still exceed shrinks by the excess and the section is cut again.
    Each span comes with the tokens of the prefix and its text together (0 without a prefix)."""
    prefix, size = prefixed
    budget = max_tokens - size
    tokens = SectionTokens(text, tokenizer)
    while True:
        spans = _chunk_spans(tokens, budget, min(overlap, budget - 1))
        if not prefix or not spans:
            return [(span, 0) for span in spans]
        counts = tokens.prefixed(prefix, size, spans)
        over = max(counts) - max_tokens
        if over <= 0 or budget - over < 1:  # (the latter: indexed_texts cuts the prefix)
            return list(zip(spans, counts, strict=True))
        budget -= over


def split_sentences(text: str) -> list[Span]:
    """Character spans of the sentences of ``text``, stripped, in order (rule 1)."""
    spans: list[Span] = []
    begin = 0
    for block_start, block_end in fenced_blocks(text):
        _split_prose(text, begin, block_start, spans)
        _append_stripped(text, block_start, block_end, spans)
        begin = block_end
    _split_prose(text, begin, len(text), spans)
    return spans


def _split_prose(text: str, begin: int, end: int, out: list[Span]) -> None:
    for match in _SENTENCE_END.finditer(text, begin, end):
        _append_stripped(text, begin, match.end(), out)
        begin = match.end()
    _append_stripped(text, begin, end, out)


def _append_stripped(text: str, start: int, end: int, out: list[Span]) -> None:
    piece = text[start:end]
    stripped_start = start + len(piece) - len(piece.lstrip())
    stripped_end = start + len(piece.rstrip())
    if stripped_start < stripped_end:
        out.append((stripped_start, stripped_end))


def _chunk_spans(tokens: SectionTokens, max_tokens: int, overlap: int) -> list[Span]:
    text = tokens.text
    sentences = split_sentences(text)
    if not sentences:
        return []
    counts = tokens.counts(sentences)
    pieces: list[Span] = []
    for group in _pack(counts, max_tokens, overlap):
        first, last = sentences[group[0]], sentences[group[-1]]
        if len(group) == 1 and counts[group[0]] > max_tokens:
            pieces.extend(windows(text, tokens.spans(first), max_tokens, overlap))
        else:
            pieces.append((first[0], last[1]))
    return _enforce_limit(tokens, pieces, max_tokens, overlap)


def _pack(counts: Sequence[int], max_tokens: int, overlap: int) -> list[list[int]]:
    """Greedy packing of sentence indices (rule 2); an over-long sentence is a group alone."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for index, count in enumerate(counts):
        if count > max_tokens:
            if current:
                groups.append(current)
            groups.append([index])
            current, total = [], 0
            continue
        if current and total + count > max_tokens:
            groups.append(current)
            kept: list[int] = []
            kept_total = 0
            for previous in reversed(current[1:]):  # never carry the whole previous chunk
                carried = kept_total + counts[previous]
                if carried > overlap or carried + count > max_tokens:
                    break
                kept.insert(0, previous)
                kept_total = carried
            current, total = kept, kept_total
        current.append(index)
        total += count
    if current:
        groups.append(current)
    return groups


def _enforce_limit(
    tokens: SectionTokens, pieces: list[Span], max_tokens: int, overlap: int
) -> list[Span]:
    """Rule 4: re-tokenize the chunk texts; re-cut those over the limit until all fit."""
    text = tokens.text
    accepted: set[Span] = set()
    pending = [_strip(text, piece) for piece in pieces]
    size = max_tokens
    while pending:
        over: list[Span] = []
        for (start, end), count in zip(pending, tokens.counts(pending), strict=True):
            if count <= max_tokens:
                if count:
                    accepted.add((start, end))
            elif size >= 1:
                absolute = tokens.spans((start, end))
                over.extend(
                    _strip(text, w) for w in windows(text, absolute, size, min(overlap, size - 1))
                )
            else:
                raise ValueError(
                    f"cannot fit {text[start:end]!r} in max_tokens={max_tokens}: the tokenizer"
                    " splits a single token's text into more tokens"
                )
        pending = [piece for piece in over if piece[0] < piece[1]]
        size = min(size - 1, size * 3 // 4)
    return sorted(accepted)


def _strip(text: str, span: Span) -> Span:
    out: list[Span] = []
    _append_stripped(text, span[0], span[1], out)
    return out[0] if out else (span[0], span[0])
