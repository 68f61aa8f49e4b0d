"""Chunk ids are deterministic: the same document, position, text and metadata give the same id."""

from docqa.core.models import Chunk, content_hash


def test_same_chunk_same_id() -> None:
    first = Chunk("doc", 3, "Some text.", {"page": 2})
    assert first.id == Chunk("doc", 3, "Some text.", {"page": 2}).id
    assert first.id.startswith("doc:3:")


def test_metadata_order_does_not_matter() -> None:
    assert Chunk("d", 0, "t", {"a": 1, "b": 2}).id == Chunk("d", 0, "t", {"b": 2, "a": 1}).id


def test_any_change_gives_a_new_id() -> None:
    base = Chunk("doc", 0, "text", {"page": 1})
    changed = [
        Chunk("other", 0, "text", {"page": 1}),
        Chunk("doc", 1, "text", {"page": 1}),
        Chunk("doc", 0, "text!", {"page": 1}),
        Chunk("doc", 0, "text", {"page": 2}),
    ]
    assert len({base.id, *(chunk.id for chunk in changed)}) == 5


def test_content_hash_of_text_and_bytes_agree() -> None:
    assert content_hash("héllo") == content_hash("héllo".encode())
    assert len(content_hash(b"")) == 64
