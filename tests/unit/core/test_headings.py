"""Heading paths, one rule for every format, and the reserved keys the extractors respect."""

from __future__ import annotations

from docqa.api.schemas.fields import RESERVED_KEYS as API_RESERVED_KEYS
from docqa.core.headings import RESERVED_KEYS, SEPARATOR, HeadingPath


def test_the_separator_is_a_single_right_angle_quotation_mark_between_spaces() -> None:
    assert SEPARATOR == " \u203a " == " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "


def test_a_heading_closes_those_at_its_level_or_deeper() -> None:
    path = HeadingPath()
    assert path.path == ""
    assert path.enter(1, "Guide") == "Guide"
    assert path.enter(3, "Deep") == "Guide \u203a Deep"  # a skipped level is simply absent
    assert path.enter(2, "Part") == "Guide \u203a Part"  # a level 2 after a level 3 is not under it
    assert path.enter(3, "Step") == "Guide \u203a Part \u203a Step"
    assert path.enter(2, "Other") == "Guide \u203a Other"
    assert path.enter(0, "Title") == "Title"  # Word's Title style is level 0
    assert path.enter(1, "Again") == "Title \u203a Again"


def test_reserved_keys_match_the_apis() -> None:
    assert RESERVED_KEYS == API_RESERVED_KEYS
