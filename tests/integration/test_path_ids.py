"""Document ids with '/' through the real API: one-to-one with paths, on every route."""

from __future__ import annotations

import hashlib
import json

import httpx

from support.api import wait_for_job

FILES = {
    "a/b.md": b"# Apples\n\nApples grow on trees in orchards.\n",
    "a-b.md": b"# Barley\n\nBarley is a cereal grain.\n",
    "docs/index.md": b"# Docs\n\nThe documentation starts here.\n",
    "blog/index.md": b"# Blog\n\nThe blog starts here.\n",
}


def upload(api: httpx.Client, collection: str, files: dict[str, bytes]) -> httpx.Response:
    return api.post(
        "/documents",
        data={"collection": collection, "ids": list(files)},
        files=[
            ("files", (name.rsplit("/", 1)[-1], data, "text/markdown"))
            for name, data in files.items()
        ],
    )


def test_paths_with_slashes_same_base_names_and_two_roots_are_distinct_documents(
    api: httpx.Client, collection: str
) -> None:
    response = upload(api, collection, FILES)
    assert response.status_code == 202, response.text
    assert [d["id"] for d in response.json()["documents"]] == list(FILES)
    assert wait_for_job(api, response.json()["job_id"])["state"] == "finished"
    params = {"collection": collection}
    listed = api.get("/documents", params=params).json()
    assert sorted(d["id"] for d in listed["items"]) == sorted(FILES)
    for document_id, data in FILES.items():
        record = api.get(f"/documents/{document_id}", params=params).json()
        assert record["id"] == document_id and record["status"] == "indexed"
        # The documented rule: sha256(bytes + json.dumps([file name, metadata], sort_keys)).
        name = document_id.rsplit("/", 1)[-1]
        expected = hashlib.sha256(data + json.dumps([name, {}], sort_keys=True).encode())
        assert record["content_hash"] == expected.hexdigest()
        chunks = api.get(f"/documents/{document_id}/chunks", params=params).json()
        assert chunks and chunks[0]["id"].startswith(f"{document_id}:")
        assert data.decode().split("\n\n")[1].strip() in chunks[0]["text"]
    assert api.delete("/documents/a/b.md", params=params).status_code == 204
    assert api.get("/documents/a/b.md", params=params).status_code == 404
    assert api.get("/documents/a-b.md", params=params).json()["status"] == "indexed"
    assert api.get("/documents/a/b.md/chunks", params=params).status_code == 404


def test_resending_with_the_same_ids_is_unchanged(api: httpx.Client, collection: str) -> None:
    files = {"x/index.md": FILES["docs/index.md"]}
    first = upload(api, collection, files)
    assert first.status_code == 202, first.text
    wait_for_job(api, first.json()["job_id"])
    again = upload(api, collection, files).json()
    assert again["job_id"] is None and again["documents"] == [
        {"id": "x/index.md", "status": "unchanged"}
    ]


def test_bad_ids_are_refused(api: httpx.Client, collection: str) -> None:
    for bad in ["../etc/passwd", "/abs.md", "a//b.md", "a\x01.md", "x" * 513, "a/chunks"]:
        response = upload(api, collection, {bad: b"# x\n\ntext\n"})
        assert response.status_code == 422, (bad, response.text)
        assert "invalid document id" in response.json()["detail"]
    two_files_one_id = api.post(
        "/documents",
        data={"collection": collection, "ids": ["only.md"]},
        files=[
            ("files", ("a.md", b"a", "text/markdown")),
            ("files", ("b.md", b"b", "text/markdown")),
        ],
    )
    assert two_files_one_id.status_code == 422
    assert "1 ids for 2 files" in two_files_one_id.json()["detail"]
    assert api.get("/documents/%2Fabs.md", params={"collection": collection}).status_code == 422
