import hashlib
import json
import re
from pathlib import PurePosixPath

import pytest

from docqa.ingest import identity, intake

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


def test_a_texts_content_hash_is_sha256_of_its_text_title_and_metadata_as_json() -> None:
    stored = intake.text_document(
        "c", "Hé llo", document_id="a", title="T", metadata={"k": 1}, max_bytes=99
    )
    raw = json.dumps(["Hé llo", "T", {"k": 1}], sort_keys=True).encode()
    assert stored.content_hash == identity.text_hash("Hé llo", "T", {"k": 1})
    assert stored.content_hash == hashlib.sha256(raw).hexdigest()


def test_a_files_content_hash_covers_its_bytes_name_and_metadata_never_its_id() -> None:
    upload = intake.file_document(
        "c", "a/b.md", "markdown", b"# x", metadata={}, document_id="r/a/b.md"
    )
    raw = b"# x" + json.dumps(["a/b.md", {}]).encode()
    assert upload.content_hash == identity.file_hash(b"# x", "a/b.md", {})
    assert upload.content_hash == hashlib.sha256(raw).hexdigest()
