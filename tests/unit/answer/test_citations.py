from __future__ import annotations

import pytest

from docqa.answer.citations import Citation, parse_citations, resolve_citations
from docqa.core.models import Hit

SOURCES = [Hit(f"c{n}", f"d{n}", f"text {n}", 1.0, {}) for n in (1, 2, 3)]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Paris [1].", [1]),
        ("Paris [2, 3].", [2, 3]),
        ("Paris [1][3].", [1, 3]),
        ("A [3]. B [1]. C [3].", [3, 1]),
        ("Paris [1-3].", [1, 2, 3]),
        ("Paris [Source 2] and [sources 1, 3].", [2, 1, 3]),
        ("Paris [ 2 ,3 ].", [2, 3]),
        ("No citations, [a], [], [1.5] or [x1].", []),
    ],
)
def test_parse(text: str, numbers: list[int]) -> None:
    assert parse_citations(text) == numbers


def test_resolve_maps_numbers_to_sources_in_order_of_first_citation() -> None:
    answer = resolve_citations("B [2]. A [1][2].", SOURCES)
    assert answer.text == "B [2]. A [1][2]."
    assert answer.citations == (Citation(2, SOURCES[1]), Citation(1, SOURCES[0]))
    assert answer.invalid == ()


def test_invalid_markers_are_stripped() -> None:
    answer = resolve_citations("Paris [7]. Lyon [0] is big [2, 9]. Nice [3][5].", SOURCES)
    assert answer.text == "Paris. Lyon is big [2]. Nice [3]."
    assert [c.number for c in answer.citations] == [2, 3]
    assert answer.invalid == (7, 0, 9, 5)


def test_range_partly_out_of_sources_is_narrowed() -> None:
    answer = resolve_citations("All [2-5].", SOURCES)
    assert answer.text == "All [2, 3]."
    assert answer.invalid == (4, 5)


def test_no_sources_strips_every_marker() -> None:
    answer = resolve_citations("I do not know [1].", [])
    assert answer.text == "I do not know." and answer.citations == () and answer.invalid == (1,)


def test_huge_range_is_not_expanded() -> None:
    assert parse_citations("[1-1000000]") == [1, 1000000]
