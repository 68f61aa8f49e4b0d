"""``docqa ingest`` against the real stack: folders, JSONL, Parquet, resume, delete-missing."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from docqa.cli.main import main
from docqa.client.run import Options, Summary, ingest

FOLDER = {
    "tutorial/middleware.md": "# Middleware\n\nThe tutorial adds a timing middleware.",
    "advanced/middleware.md": "# Middleware\n\nAdvanced middleware wraps the whole app.",
    "a/b.md": "# Apples\n\nApples grow in orchards.",
    "a-b.md": "# Barley\n\nBarley is a cereal.",
    "index.md": "# Docs\n\nWhere the documentation starts.",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def run(api: httpx.Client, collection: str, *paths: Path, **options: object) -> Summary:
    return ingest(
        Options(paths=list(paths), collection=collection, progress=False, poll_s=0.2, **options),  # type: ignore[arg-type]
        client=api,
    )


def stored(api: httpx.Client, collection: str) -> dict[str, dict[str, object]]:
    page = api.get("/documents", params={"collection": collection, "limit": 1000}).json()
    return {d["id"]: d for d in page["items"]}


def test_folders_with_same_named_files_then_a_rerun_sends_nothing(
    api: httpx.Client,
    base_url: str,
    collection: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    docs = write(tmp_path / "docs", FOLDER)
    blog = write(tmp_path / "blog", {"index.md": "# Blog\n\nWhere the blog starts."})
    first = run(api, collection, docs, blog)
    assert not first.failed and (first.read, first.sent, first.queued) == (6, 6, 6)
    records = stored(api, collection)
    expected = {f"docs/{name}" for name in FOLDER} | {"blog/index.md"}
    assert set(records) == expected
    assert all(r["status"] == "indexed" for r in records.values())
    assert first.chunks == sum(int(r["chunks"]) for r in records.values()) > 0  # type: ignore[call-overload]
    assert (
        api.get("/documents/docs/tutorial/middleware.md/chunks", params={"collection": collection})
        .json()[0]["text"]
        .endswith("timing middleware.")
    )
    argv = [
        "ingest",
        str(docs),
        str(blog),
        "--collection",
        collection,
        "--base-url",
        base_url,
        "--no-progress",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "documents sent: 0, queued: 0, unchanged: 6, failed: 0" in printed


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_sending_only_what_is_not_stored(
    api: httpx.Client, base_url: str, collection: str, tmp_path: Path
) -> None:
    folder = write(tmp_path / "docs", FOLDER)
    posts: list[int] = []

    def cut_after_two_posts(request: httpx.Request) -> None:
        if request.method == "POST":
            posts.append(1)
            if len(posts) > 2:
                raise Interrupted("the run is stopped")

    with (
        httpx.Client(
            base_url=base_url, timeout=120, event_hooks={"request": [cut_after_two_posts]}
        ) as cut,
        pytest.raises(Interrupted),
    ):
        run(cut, collection, folder, batch_documents=1, concurrency=1)
    assert len(stored(api, collection)) == 2
    resumed = run(api, collection, folder, batch_documents=1, concurrency=1)
    assert (resumed.read, resumed.unchanged, resumed.sent, resumed.queued) == (5, 2, 3, 3)
    assert not resumed.failed and len(stored(api, collection)) == 5


def test_jsonl_and_parquet_records(api: httpx.Client, collection: str, tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    lines = [
        {
            "id": "faq/1",
            "text": "Pears ripen after picking.",
            "title": "Pears",
            "metadata": {"topic": "fruit"},
        },
        {"id": "faq/2", "text": "Plums are stone fruit."},
    ]
    (folder / "a.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    table = pa.table(
        {"id": ["wiki/3", "wiki/4"], "text": ["Figs grow in warm places.", "Dates grow on palms."]}
    )
    pq.write_table(table, folder / "b.parquet")
    summary = run(api, collection, folder)
    assert not summary.failed and summary.queued == 4
    records = stored(api, collection)
    assert set(records) == {"faq/1", "faq/2", "wiki/3", "wiki/4"}
    assert records["faq/1"]["title"] == "Pears" and records["faq/1"]["metadata"] == {
        "topic": "fruit"
    }
    assert all(r["status"] == "indexed" for r in records.values())
    again = run(api, collection, folder)
    assert (again.sent, again.unchanged) == (0, 4)


def test_delete_missing_removes_only_the_roots_missing_documents_and_refuses_after_errors(
    api: httpx.Client, collection: str, tmp_path: Path
) -> None:
    docs = write(
        tmp_path / "docs", {"keep.md": "# Keep\n\nKept.", "gone.md": "# Gone\n\nRemoved later."}
    )
    blog = write(tmp_path / "blog", {"post.md": "# Post\n\nA post."})
    assert not run(api, collection, docs, blog).failed
    (docs / "gone.md").unlink()
    extra = write(tmp_path / "extra", {"new.md": "# New\n\nNew."})
    dry = run(api, collection, docs, extra, delete_missing=True, dry_run=True)
    assert dry.deleted == ["docs/gone.md"] and dry.sent == 1 and dry.queued == 0
    assert "docs/gone.md" in stored(api, collection)
    (docs / "broken.jsonl").write_text("not json\n")
    refused = run(api, collection, docs, extra, delete_missing=True)
    assert refused.deleted == [] and "had errors" in str(refused.failed)
    (docs / "broken.jsonl").unlink()
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run(api, collection, empty, delete_missing=True)
    assert nothing.deleted == [] and "no documents" in str(nothing.failed)
    done = run(api, collection, docs, extra, delete_missing=True)
    assert done.deleted == ["docs/gone.md"] and not done.failed
    assert set(stored(api, collection)) == {"docs/keep.md", "blog/post.md", "extra/new.md"}
