import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from docqa.client import sources
from docqa.client.sources import Document, Failure, Root


def read_all(root: Root, pattern: str | None = None) -> tuple[list[Document], list[Failure]]:
    failures: list[Failure] = []
    documents: list[Document] = []
    for relative in sources.files(root, pattern, failures):
        for item in sources.read(root, relative):
            (failures if isinstance(item, Failure) else documents).append(item)  # type: ignore[arg-type]
    return documents, failures


def test_a_folder_gives_relative_path_ids_and_skips_what_the_api_cannot_read(
    tmp_path: Path,
) -> None:
    for name in [
        "a/b.md",
        "a-b.md",
        "tutorial/middleware.md",
        "advanced/middleware.md",
        "x.bin",
        ".git/c.md",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    documents, failures = read_all(Root(tmp_path))
    assert not failures
    assert sorted(d.id for d in documents) == [
        "a-b.md",
        "a/b.md",
        "advanced/middleware.md",
        "tutorial/middleware.md",
    ]
    assert {d.filename for d in documents} == {d.id for d in documents}
    assert [d.id for d in read_all(Root(tmp_path), "*/middleware.md")[0]] == [
        "advanced/middleware.md",
        "tutorial/middleware.md",
    ]


def test_several_roots_are_labelled_by_base_name(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "blog").mkdir()
    for folder in ("docs", "blog"):
        (tmp_path / folder / "index.md").write_text(folder)
    roots = sources.roots([tmp_path / "docs", tmp_path / "blog"])
    ids = sorted(d.id for r in roots for d in read_all(r)[0])
    assert ids == ["blog/index.md", "docs/index.md"]
    (tmp_path / "x" / "docs").mkdir(parents=True)
    with pytest.raises(ValueError, match="share the base names"):
        sources.roots([tmp_path / "docs", tmp_path / "x" / "docs"])


def test_jsonl_records_and_their_errors(tmp_path: Path) -> None:
    lines = [
        {"id": "q/1", "text": "one", "title": "One", "metadata": {"k": "v"}},
        {"id": "2", "text": "   "},
        {"id": "3", "text": "three", "extra": 1},
        {"id": "../4", "text": "four"},
    ]
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    documents, failures = read_all(Root(tmp_path / "r.jsonl"))
    assert [(d.id, d.text, d.title, d.metadata) for d in documents] == [
        ("q/1", "one", "One", {"k": "v"})
    ]
    assert [f.where.rsplit(":", 1)[1] for f in failures] == ["2", "3", "4", "5"]
    assert "blank" in failures[0].reason and "unknown fields" in failures[1].reason
    assert "'..'" in failures[2].reason


def test_parquet_rows_are_read_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "PARQUET_BATCH_ROWS", 2)
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "text": ["alpha", "beta", "gamma"],
            "title": ["A", None, "C"],
            "metadata": [json.dumps({"n": 1}), None, "{}"],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    root = Root(tmp_path, "")
    documents, failures = read_all(root)
    assert not failures
    assert [(d.id, d.title, d.metadata) for d in documents] == [
        ("a", "A", {"n": 1}),
        ("b", None, {}),
        ("c", "C", {}),
    ]
    assert sources.count(root, next(sources.files(root, None, []))) == 3


def test_a_parquet_file_without_text_is_a_failure(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "t.parquet")
    documents, failures = read_all(Root(tmp_path))
    assert not documents and "columns ['text']" in failures[0].reason


def test_a_missing_path_is_a_failure(tmp_path: Path) -> None:
    assert read_all(Root(tmp_path / "nope"))[1] == [
        Failure(str(tmp_path / "nope"), "no such file or folder")
    ]
