"""Bad input gets a 4xx problem+json that says what was wrong, and nothing stored changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.api import assert_problem, chunks, ingest
from support.pdfs import make_pdf

MB = 1024 * 1024

JSON_CASES: list[tuple[str, Any, int, str]] = [
    ("empty text", {"documents": [{"id": "keep", "text": ""}]}, 422, "empty"),
    ("whitespace text", {"documents": [{"id": "keep", "text": " \n\t "}]}, 422, "whitespace"),
    ("empty list", {"documents": []}, 422, "documents"),
    ("unknown field", {"documents": [{"id": "keep", "text": "x", "colour": 1}]}, 422, "colour"),
    ("unknown top field", {"documents": [{"text": "x"}], "extra": 1}, 422, "extra"),
    (
        "nested metadata",
        {"documents": [{"text": "x", "metadata": {"a": {"b": 1}}}]},
        422,
        "metadata",
    ),
    ("reserved metadata", {"documents": [{"text": "x", "metadata": {"page": 1}}]}, 422, "reserved"),
    ("bad id", {"documents": [{"id": "../etc", "text": "x"}]}, 422, "id"),
    (
        "bad collection",
        {"collection": "no spaces", "documents": [{"text": "x"}]},
        422,
        "collection",
    ),
    (
        "repeated id",
        {"documents": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]},
        422,
        "more than once",
    ),
]

FILE_CASES: list[tuple[str, str, bytes, int, str]] = [
    ("unsupported type", "tool.exe", b"MZ\x90\x00", 415, ".exe"),
    ("pdf that is text", "fake.pdf", b"just some text", 422, "PDF"),
    ("png named txt", "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 422, "image.txt"),
    ("undecodable text", "latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), 422, "UTF-8"),
    ("empty file", "empty.txt", b"   \n", 422, "empty"),
]


@pytest.fixture
def stored(api: httpx.Client, collection: str) -> dict[str, Any]:
    """A collection that already holds a document, to check that bad input changes nothing."""
    ingest(api, collection, {"id": "keep", "text": "A stored document about owls."})
    return snapshot(api, collection)


def snapshot(api: httpx.Client, collection: str) -> dict[str, Any]:
    listing = api.get("/documents", params={"collection": collection}).json()
    return {"documents": listing, "chunks": chunks(api, collection, "keep")}


@pytest.mark.parametrize(
    ("case", "body", "status", "mentions"), JSON_CASES, ids=[c[0] for c in JSON_CASES]
)
def test_bad_json_documents(
    api: httpx.Client,
    collection: str,
    stored: dict[str, Any],
    case: str,
    body: dict[str, Any],
    status: int,
    mentions: str,
) -> None:
    response = api.post("/documents", json={"collection": collection, **body})
    assert_problem(response, status, mentions)
    assert snapshot(api, collection) == stored


def test_invalid_json(api: httpx.Client, collection: str, stored: dict[str, Any]) -> None:
    response = api.post(
        "/documents", content=b'{"documents": [', headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "invalid json")
    assert snapshot(api, collection) == stored


def test_unsupported_content_type(api: httpx.Client) -> None:
    response = api.post("/documents", content=b"hello", headers={"content-type": "text/plain"})
    assert_problem(response, 415, "application/json")


@pytest.mark.parametrize(
    ("case", "name", "data", "status", "mentions"), FILE_CASES, ids=[c[0] for c in FILE_CASES]
)
def test_bad_files(
    api: httpx.Client,
    collection: str,
    stored: dict[str, Any],
    case: str,
    name: str,
    data: bytes,
    status: int,
    mentions: str,
) -> None:
    files = [
        ("files", ("good.txt", b"A good file that must not be stored either.", "text/plain")),
        ("files", (name, data, "application/octet-stream")),
    ]
    response = api.post("/documents", data={"collection": collection}, files=files)
    assert_problem(response, status, mentions)
    assert snapshot(api, collection) == stored


def test_document_over_the_size_limit(
    api: httpx.Client, collection: str, stored: dict[str, Any]
) -> None:
    big = "word " * (4 * MB + 1)  # a little over 20 MB
    response = api.post(
        "/documents", json={"collection": collection, "documents": [{"id": "keep", "text": big}]}
    )
    assert_problem(response, 413, "limit")
    upload = api.post(
        "/documents",
        data={"collection": collection},
        files={"files": ("big.txt", big.encode(), "text/plain")},
    )
    assert_problem(upload, 413, "limit")
    assert snapshot(api, collection) == stored


def test_good_pdf_beside_a_bad_file_is_not_stored(
    api: httpx.Client, collection: str, stored: dict[str, Any]
) -> None:
    files = [
        ("files", ("ok.pdf", make_pdf(["fine"]), "application/pdf")),
        ("files", ("bad.pdf", b"not a pdf", "application/pdf")),
    ]
    assert_problem(
        api.post("/documents", data={"collection": collection}, files=files), 422, "bad.pdf"
    )
    assert snapshot(api, collection) == stored


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/documents", {"limit": 0}),
        ("/documents", {"collection": "bad name"}),
        ("/documents/x", {"collection": "-"}),
    ],
)
def test_bad_query_parameters(api: httpx.Client, path: str, params: dict[str, Any]) -> None:
    assert_problem(api.get(path, params=params), 422, "")
