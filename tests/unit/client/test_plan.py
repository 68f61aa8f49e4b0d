import pytest

from docqa.client import plan
from docqa.client.sources import Document


def doc(i: str, size: int = 10, *, is_file: bool = False) -> Document:
    return Document(id=i, content_hash="h" + i, size=size, data=b"x" if is_file else None)


def test_only_equal_stored_and_not_failed_documents_are_unchanged() -> None:
    stored = {
        "a": ("ha", "indexed"),
        "b": ("old", "indexed"),
        "c": ("hc", "failed"),
        "d": ("hd", "queued"),
    }
    assert [plan.unchanged(doc(i), stored) for i in "abcde"] == [True, False, False, True, False]


def test_batches_bound_bytes_and_count_and_keep_one_kind() -> None:
    documents = [
        doc("1", 4),
        doc("2", 4),
        doc("3", 4),
        doc("4", 30),
        doc("5", 1, is_file=True),
        doc("6", 1),
    ]
    sizes = [[d.id for d in b] for b in plan.batches(documents, max_bytes=10, max_documents=2)]
    assert sizes == [["1", "2"], ["3"], ["4"], ["5"], ["6"]]


def test_deletes_only_missing_ids_under_the_prefixes() -> None:
    stored = ["docs/a.md", "docs/gone.md", "blog/x.md", "other/gone.md"]
    assert plan.to_delete(
        stored, {"docs/a.md", "blog/x.md"}, ["docs/", "blog/"], walk_failed=False
    ) == ["docs/gone.md"]
    assert plan.to_delete(["a", "b"], {"a"}, [""], walk_failed=False) == ["b"]


@pytest.mark.parametrize(
    ("local", "failed", "why"), [({"a"}, True, "had errors"), (set(), False, "no documents")]
)
def test_deleting_is_refused_after_errors_or_an_empty_walk(
    local: set[str], failed: bool, why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        plan.to_delete(["a", "b"], local, [""], walk_failed=failed)
