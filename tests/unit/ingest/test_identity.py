import re
from pathlib import PurePosixPath

import pytest

from docqa.ingest import identity

VALID = ["a", "a/b.md", "a-b.md", "docs/index.md", "My Report (v2).PDF", "x" * 512, "chunks"]
INVALID = [
    "",
    "/a",
    "a/",
    "a//b",
    ".",
    "..",
    "a/../b",
    "./a",
    "a/.",
    "a\x00b",
    "a\nb",
    "a\x7f",
    "x" * 513,
    "a/chunks",
]


@pytest.mark.parametrize("document_id", VALID)
def test_valid_ids_pass_the_check_and_the_declared_pattern(document_id: str) -> None:
    assert identity.check(document_id) == document_id
    assert re.fullmatch(identity.PATTERN, document_id)


@pytest.mark.parametrize("document_id", INVALID)
def test_invalid_ids_fail_the_check_and_the_declared_pattern(document_id: str) -> None:
    with pytest.raises(ValueError, match="invalid document id"):
        identity.check(document_id)
    assert not re.fullmatch(identity.PATTERN, document_id)


def test_paths_map_one_to_one_and_roots_are_labelled() -> None:
    ids = {
        identity.from_path(PurePosixPath("a/b.md")),
        identity.from_path(PurePosixPath("a-b.md")),
        identity.from_path(PurePosixPath("index.md"), "docs"),
        identity.from_path(PurePosixPath("index.md"), "blog"),
    }
    assert ids == {"a/b.md", "a-b.md", "docs/index.md", "blog/index.md"}


def test_file_names_keep_their_folders_and_drop_dot_segments() -> None:
    assert identity.from_file_name("a/b.md") == "a/b.md"
    assert identity.from_file_name("a\\b.md") == "a/b.md"
    assert identity.from_file_name("../../x.txt") == "x.txt"
    with pytest.raises(ValueError, match="empty"):
        identity.from_file_name("../")
