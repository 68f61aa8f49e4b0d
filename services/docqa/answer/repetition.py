"""Pure: does a generated answer loop, where does the loop begin, and how much of a growing
answer no continuation can turn into part of a loop.

A small base model (the embedded Gemma 3 270M) falls into loops: the same bullet until
``max_tokens``, one sentence over and over, a line of ``* * * *``. The definition, committed
before the fix that it measures:

* **line**: the same line 3 times or more. Lines compare lowercased, whitespace collapsed, a
  list marker (``-``, ``*``, ``+``, ``•``, ``1.``, ``2)``) and trailing punctuation dropped;
  lines with no letter or digit are left to the symbol rule.
* **n-gram**: the same 4 words in a row 4 times or more (words: runs of letters and digits,
  lowercased). An occurrence that begins within the first 4 words of a line does not count:
  the items of a list often open alike ("- It can be used to index", "- It can be used to
  search") without repeating themselves.
* **symbols**: 4 or more whitespace-separated tokens in a row that are the same 1-3 symbols
  (``* * * *``, ``- - - -``, ``• • • •``; not ``|``, an empty table cell), or one symbol 10
  times in a row (``**********``; not ``- = _ ~ # ` . |``, which draw rules, headings, fences,
  tables and leaders).

A loop is *found* at the point where its last required occurrence is complete (a line when
its newline comes, a word when a non-word character follows it) or the text is final. When
several rules fire, the loop found first counts, so cutting a stream as it grows and cutting
the whole text give the same answer. A loop *begins* where its first repetition begins: the
second occurrence of the line or of the 4 words; for symbols, the run's first token. ``cut``
keeps the text before that, trimmed to a clean end (no dangling list marker or comma).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from docqa.answer.repetition_units import Word, line_key, line_spans, words_of

Kind = Literal["line", "ngram", "symbols"]

LINE_REPEATS = 3
NGRAM = 4
NGRAM_REPEATS = 4
SYMBOL_TOKENS = 4
SYMBOL_CHARS = 10

_TOKEN = re.compile(r"\S+")
_SYMBOL_TOKEN = re.compile(r"[^\w\s|]{1,3}")
_SYMBOL_CHAR_RUN = re.compile(rf"([^\w\s\-=~#`.|])\1{{{SYMBOL_CHARS - 1},}}")
_DANGLING = re.compile(r"(?:^|\n)[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])$")
_OPENING = re.compile(r"[ \t]*(?:[-*+\u2022]|\d{1,3}[.)]?)?[ \t]*")  # may become a marker
_JUNK_END = " \t\r\n,;:(\u2013\u2014-"


@dataclass(frozen=True)
class Loop:
    kind: Kind
    start: int  # where the first repetition begins (characters into the text)
    found_at: int  # where the text shows the loop: its last required occurrence ends
    repeated: str  # the repeated line, words or symbols (normalised)


def _line_loops(text: str, final: bool) -> list[Loop]:
    seen: dict[str, list[int]] = {}
    loops: list[Loop] = []
    for start, end, complete in line_spans(text, final):
        key = line_key(text[start:end])
        if key is None or not complete:
            continue
        starts = seen.setdefault(key, [])
        starts.append(start)
        if len(starts) == LINE_REPEATS:
            loops.append(Loop("line", starts[1], min(end + 1, len(text)), key))
    return loops


def _ngram_loops(words: list[Word], text_length: int) -> list[Loop]:
    seen: dict[tuple[str, ...], list[int]] = {}
    loops: list[Loop] = []
    for i in range(len(words) - NGRAM + 1):
        gram = words[i : i + NGRAM]
        if not gram[0].counts or not gram[-1].complete:
            continue
        key = tuple(w.text for w in gram)
        starts = seen.setdefault(key, [])
        starts.append(gram[0].start)
        if len(starts) == NGRAM_REPEATS:
            found = min(gram[-1].end + 1, text_length)
            loops.append(Loop("ngram", starts[1], found, " ".join(key)))
    return loops


def _symbol_loops(text: str, final: bool) -> list[Loop]:
    loops: list[Loop] = []
    run: list[re.Match[str]] = []
    for token in _TOKEN.finditer(text):
        complete = token.end() < len(text) or final
        symbol = complete and _SYMBOL_TOKEN.fullmatch(token.group()) is not None
        if symbol and run and token.group() == run[0].group():
            run.append(token)
        else:
            run = [token] if symbol else []
        if len(run) == SYMBOL_TOKENS:
            found = min(token.end() + 1, len(text))
            loops.append(Loop("symbols", run[0].start(), found, run[0].group()))
    for match in _SYMBOL_CHAR_RUN.finditer(text):
        loops.append(Loop("symbols", match.start(), match.start() + SYMBOL_CHARS, match.group(1)))
    return loops


def find_loop(text: str, *, final: bool = True) -> Loop | None:
    """The loop in ``text`` found first, or None. ``final=False``: more text may follow, so
    the last line and the last word are not complete yet."""
    loops = [
        *_line_loops(text, final),
        *_ngram_loops(words_of(text, final), len(text)),
        *_symbol_loops(text, final),
    ]
    return min(loops, key=lambda loop: (loop.found_at, loop.start), default=None)


def has_loop(text: str) -> bool:
    return find_loop(text) is not None


def clean_end(text: str, end: int) -> int:
    """``end`` moved back over whitespace, commas, colons, dashes, opening parentheses and a
    list marker left alone on its line: where a cut text ends cleanly."""
    kept = text[:end]
    while True:
        trimmed = _DANGLING.sub("", kept.rstrip(_JUNK_END)).rstrip(_JUNK_END)
        if trimmed == kept:
            return len(kept)
        kept = trimmed


def cut(text: str) -> tuple[str, Loop | None]:
    """``text`` without its loop (from the first repetition on, trimmed), and the loop."""
    loop = find_loop(text)
    if loop is None:
        return text, None
    return text[: clean_end(text, loop.start)], loop


def _partial_key(line: str) -> str | None:
    """An unfinished line's compare form so far; None while it may still be a list marker or
    has no letter or digit."""
    if _OPENING.fullmatch(line):
        return None
    return line_key(line)


def _may_repeat(words: list[Word], i: int, j: int) -> bool:
    """Whether the 4 words from ``j`` (not all written yet) may turn out the 4 from ``i``."""
    if not words[i].counts:
        return False
    for t in range(NGRAM):
        if j + t >= len(words) or i + t >= len(words):
            return True  # not written yet: anything may come
        first, later = words[i + t], words[j + t]
        if later.complete and first.complete and first.text != later.text:
            return False
        if not later.complete:
            return first.text.startswith(later.text) or not first.complete
        if not first.complete:  # the earlier gram reaches into the unfinished word
            return later.text.startswith(first.text)
    return True


def settled(text: str) -> int:
    """How much of a growing ``text`` no continuation can take back: its length up to the
    earliest place where a loop could still begin, trimmed as a cut would be.

    Those places: the second occurrence of a line seen twice, or of 4 words seen twice (a
    third or fourth would make it a loop); the unfinished last line, when it may turn out a
    line seen before; the last 3 words and the unfinished one, when they may turn out 4 words
    seen before; and a run of symbols at the end.
    """
    points = [len(text)]
    keys: dict[str, list[int]] = {}
    spans = line_spans(text, False)
    for start, end, complete in spans:
        if complete and (key := line_key(text[start:end])) is not None:
            keys.setdefault(key, []).append(start)
    points += [starts[1] for starts in keys.values() if len(starts) > 1]
    last_start, last_end, _ = spans[-1]
    partial = _partial_key(text[last_start:last_end])
    if _OPENING.fullmatch(text[last_start:last_end]) or (
        keys and (partial is None or any(key.startswith(partial) for key in keys))
    ):  # a list marker, which a cut would drop, or a line that may repeat one
        points.append(last_start)

    words = words_of(text, False)
    grams: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(words) - NGRAM + 1):
        gram = words[i : i + NGRAM]
        if gram[0].counts and gram[-1].complete:
            grams.setdefault(tuple(w.text for w in gram), []).append(gram[0].start)
    points += [starts[1] for starts in grams.values() if len(starts) > 1]
    # 4 words from the last ones on, not all written, may repeat 4 earlier ones (overlap too)
    for j in range(max(0, len(words) - NGRAM), len(words)):
        written = j + NGRAM <= len(words) and words[j + NGRAM - 1].complete
        if words[j].counts and not written and any(_may_repeat(words, i, j) for i in range(j)):
            points.append(words[j].start)
            break

    tokens = list(_TOKEN.finditer(text))
    first = len(tokens)
    while first > 0 and _SYMBOL_TOKEN.fullmatch(tokens[first - 1].group()):
        first -= 1
    if first < len(tokens):
        points.append(tokens[first].start())
    if run := re.search(r"([^\w\s\-=~#`.|])\1*$", text):
        points.append(run.start())

    return clean_end(text, min(points))
