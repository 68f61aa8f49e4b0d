"""Pure: find the ``[n]`` citations in an answer and map them to the sources it was given.

Markers understood: ``[1]``, ``[2, 3]``, ``[1][3]``, ranges ``[2-4]`` (also with an en dash),
and ``[Source 2]`` / ``[Sources 1, 2]``, since models write those too.

Choice for numbers that point at no source (``[7]`` when there were 3 sources, or ``[0]``):
they are removed from the answer text, so every number a reader sees maps to a source. A marker
that keeps some valid numbers is rewritten with only those (``[2, 7]`` -> ``[2]``); a marker
with none is deleted with the spaces before it (``Paris [7].`` -> ``Paris.``). The removed
numbers are reported in ``CitedAnswer.invalid`` so callers can log or flag them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from docqa.core.models import Hit

_NUMBERS = r"\d+(?:\s*[-\u2013]\s*\d+)?(?:\s*,\s*\d+(?:\s*[-\u2013]\s*\d+)?)*"
CITATION = re.compile(rf"[ \t]*\[\s*(?:sources?\s*)?({_NUMBERS})\s*\]", re.IGNORECASE)
_ITEM = re.compile(r"(\d+)(?:\s*[-\u2013]\s*(\d+))?")

# A range wider than this is not a citation (and must not allocate a huge list).
_MAX_RANGE = 50


@dataclass(frozen=True)
class Citation:
    number: int  # source [n], 1-based, as in the answer text
    source: Hit


@dataclass(frozen=True)
class CitedAnswer:
    text: str  # the answer, invalid markers removed
    citations: tuple[Citation, ...]  # each cited source once, in order of first citation
    invalid: tuple[int, ...]  # numbers that pointed at no source, removed from ``text``


def _numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for match in _ITEM.finditer(group):
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
        if start <= end <= start + _MAX_RANGE:
            numbers.extend(range(start, end + 1))
        else:
            numbers.extend((start, end))
    return numbers


def parse_citations(text: str) -> list[int]:
    """Every number cited in ``text``, once each, in order of first appearance."""
    seen: dict[int, None] = {}
    for match in CITATION.finditer(text):
        for number in _numbers(match.group(1)):
            seen.setdefault(number, None)
    return list(seen)


def resolve_citations(text: str, sources: Sequence[Hit]) -> CitedAnswer:
    """Map citations to ``sources`` (``sources[n - 1]`` is ``[n]``) and strip invalid ones."""
    cited: dict[int, None] = {}
    invalid: dict[int, None] = {}

    def rewrite(match: re.Match[str]) -> str:
        numbers = _numbers(match.group(1))
        valid = [n for n in numbers if 1 <= n <= len(sources)]
        for n in numbers:
            (cited if 1 <= n <= len(sources) else invalid).setdefault(n, None)
        if len(valid) == len(numbers):
            return match.group(0)
        if not valid:
            return ""
        leading = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip(" \t"))]
        return f"{leading}[{', '.join(str(n) for n in dict.fromkeys(valid))}]"

    cleaned = CITATION.sub(rewrite, text)
    return CitedAnswer(
        text=cleaned,
        citations=tuple(Citation(number=n, source=sources[n - 1]) for n in cited),
        invalid=tuple(invalid),
    )


def remark(sentence: str, source: int | None) -> str:
    """``sentence`` with its first citation mark naming ``source``, its other marks gone."""
    seen = False

    def swap(match: re.Match[str]) -> str:
        nonlocal seen
        if seen:
            return ""
        seen = True
        group = match.group(0)
        return f"{group[: len(group) - len(group.lstrip())]}[{source}]"

    return CITATION.sub(swap, sentence)
