"""Markdown front matter: which YAML blocks count, and what their values become."""

from __future__ import annotations

import pytest

from docqa.ingest.formats.front_matter import MAX_FRONT_MATTER_KEYS, front_matter


@pytest.mark.parametrize(
    "text",
    ["---\n- a list\n- not a mapping\n---\nbody", "---\nkey: [unclosed\n---\nbody"],
)
def test_a_block_that_is_not_a_yaml_mapping_is_not_front_matter(text: str) -> None:
    assert front_matter(text) == ({}, text)


def test_empty_front_matter_is_removed_and_keys_are_bounded() -> None:
    assert front_matter("---\n---\nbody") == ({}, "body")
    many = "".join(f"k{i}: {i}\n" for i in range(MAX_FRONT_MATTER_KEYS + 5))
    metadata, body = front_matter(f"---\n{many}...\nbody")
    assert len(metadata) == MAX_FRONT_MATTER_KEYS
    assert body == "body"


def test_front_matter_numbers_a_store_cannot_hold_become_strings() -> None:
    metadata, _ = front_matter("---\nbig: 123456789012345678901234567890\nodd: .nan\n---\nx")
    assert metadata == {"big": "123456789012345678901234567890", "odd": "nan"}
