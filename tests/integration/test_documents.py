"""Documents in: ingest, re-ingest, replace, delete, over HTTP against the running stack."""

from __future__ import annotations

import httpx
import pytest

from docqa.adapters.chroma import ChromaStore
from docqa.core.models import EmbeddingSpec
from docqa.stack.local import Stack
from support.api import chunks, ingest, wait_for_job
from support.pdfs import make_pdf

PARAGRAPHS = [
    "The Eiffel Tower was completed in 1889 for the World's Fair in Paris.",
    "Gustave Eiffel's company designed and built the tower over two years.",
    "At 330 metres it was the tallest man-made structure until 1930.",
]


def test_text_document_is_chunked_embedded_and_stored(api: httpx.Client, collection: str) -> None:
    job = ingest(
        api,
        collection,
        {
            "id": "eiffel",
            "text": "\n\n".join(PARAGRAPHS),
            "title": "Eiffel",
            "metadata": {"lang": "en"},
        },
    )
    assert job["state"] == "finished", job
    assert job["progress"]["done"] == job["progress"]["total"] > 0

    record = api.get("/documents/eiffel", params={"collection": collection}).json()
    assert record["status"] == "indexed"
    stored = chunks(api, collection, "eiffel")
    assert len(stored) == record["chunks"] == job["progress"]["total"]
    assert [c["position"] for c in stored] == list(range(len(stored)))
    assert all(c["metadata"]["lang"] == "en" and c["metadata"]["title"] == "Eiffel" for c in stored)
    assert "1889" in " ".join(c["text"] for c in stored)


def test_pdf_keeps_page_numbers(api: httpx.Client, collection: str) -> None:
    pdf = make_pdf(["Page one is about apples.", "Page two is about oranges."])
    response = api.post(
        "/documents",
        data={"collection": collection},
        files={"files": ("fruit.pdf", pdf, "application/pdf")},
    )
    assert response.status_code == 202, response.text
    assert response.json()["documents"] == [{"id": "fruit.pdf", "status": "queued"}]
    assert wait_for_job(api, response.json()["job_id"])["state"] == "finished"
    stored = chunks(api, collection, "fruit.pdf")
    pages = {c["metadata"]["page"]: c["text"] for c in stored}
    assert "apples" in pages[1] and "oranges" in pages[2]


def test_upload_of_text_markdown_and_html(api: httpx.Client, collection: str) -> None:
    files = [
        ("files", ("notes.txt", b"Plain notes about pears.", "text/plain")),
        ("files", ("guide.md", MARKDOWN, "text/markdown")),
        (
            "files",
            (
                "page.html",
                b"<html><body><script>x=1</script><h1>Figs</h1><p>HTML about figs.</p>"
                b"<h2>Drying</h2><p>Dry them in the sun.</p></body></html>",
                "text/html",
            ),
        ),
    ]
    response = api.post("/documents", data={"collection": collection}, files=files)
    assert response.status_code == 202, response.text
    assert wait_for_job(api, response.json()["job_id"])["state"] == "finished"
    page = chunks(api, collection, "page.html")
    html = " ".join(c["text"] for c in page)
    assert "figs" in html and "<p>" not in html and "x=1" not in html
    assert [(c["metadata"]["section"], c["metadata"]["heading_level"]) for c in page] == [
        ("Figs", 1),
        ("Figs \u203a Drying", 2),
    ]
    guide = chunks(api, collection, "guide.md")
    assert "plums" in guide[0]["text"]
    # sections follow the headings; front matter is metadata, not text
    assert [(c["metadata"]["section"], c["metadata"]["heading_level"]) for c in guide] == [
        ("Guide", 1),
        ("Guide \u203a Stones", 2),
    ]
    assert {c["metadata"]["season"] for c in guide} == {"autumn"}
    assert not any("season" in c["text"] or "<!--" in c["text"] for c in guide)


MARKDOWN = (
    b"---\ntitle: Fruit guide\nseason: autumn\n---\n<!-- an editor's note -->\n"
    b"# Guide\n\nMarkdown about plums.\n\n## Stones\n\nPlums have stones.\n"
)


def test_reposting_identical_content_is_a_no_op(api: httpx.Client, collection: str) -> None:
    document = {"id": "same", "text": " ".join(PARAGRAPHS)}
    ingest(api, collection, document)
    before = chunks(api, collection, "same")

    again = api.post("/documents", json={"collection": collection, "documents": [document]})
    assert again.status_code == 202
    assert again.json()["job_id"] is None
    assert again.json()["documents"] == [{"id": "same", "status": "unchanged"}]
    assert chunks(api, collection, "same") == before


def test_documents_without_id_are_identified_by_their_text(
    api: httpx.Client, collection: str
) -> None:
    first = ingest(api, collection, {"text": "Anonymous text about kiwis."})
    again = api.post(
        "/documents",
        json={"collection": collection, "documents": [{"text": "Anonymous text about kiwis."}]},
    ).json()
    assert first["documents"] == [f"{collection}/{again['documents'][0]['id']}"]
    assert again["documents"][0]["status"] == "unchanged"
    assert api.get("/documents", params={"collection": collection}).json()["total"] == 1


def test_changed_content_replaces_all_old_chunks(api: httpx.Client, collection: str) -> None:
    ingest(api, collection, {"id": "doc", "text": "\n\n".join(PARAGRAPHS * 20)})
    old_ids = {c["id"] for c in chunks(api, collection, "doc")}
    assert len(old_ids) > 1

    job = ingest(api, collection, {"id": "doc", "text": "Entirely new text about lighthouses."})
    assert job["state"] == "finished"
    new = chunks(api, collection, "doc")
    assert len(new) == 1 and "lighthouses" in new[0]["text"]
    assert not old_ids & {c["id"] for c in new}


def test_delete_removes_the_record_and_its_chunks(api: httpx.Client, collection: str) -> None:
    ingest(
        api,
        collection,
        {"id": "gone", "text": PARAGRAPHS[0]},
        {"id": "kept", "text": PARAGRAPHS[1]},
    )
    assert api.delete("/documents/gone", params={"collection": collection}).status_code == 204

    missing = api.get("/documents/gone", params={"collection": collection})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert api.get("/documents/gone/chunks", params={"collection": collection}).status_code == 404
    assert len(chunks(api, collection, "kept")) == 1
    assert api.delete("/documents/gone", params={"collection": collection}).status_code == 404


def test_listing_is_paginated(api: httpx.Client, collection: str) -> None:
    ingest(api, collection, *({"id": f"d{i}", "text": f"Document number {i}."} for i in range(5)))
    page = api.get("/documents", params={"collection": collection, "offset": 1, "limit": 2}).json()
    assert page["total"] == 5
    assert [item["id"] for item in page["items"]] == ["d1", "d2"]
    assert all(item["status"] == "indexed" for item in page["items"])


def test_pdf_without_text_fails_its_job_with_the_reason(api: httpx.Client, collection: str) -> None:
    response = api.post(
        "/documents",
        data={"collection": collection},
        files={"files": ("blank.pdf", make_pdf([""]), "application/pdf")},
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(api, response.json()["job_id"])
    assert job["state"] == "failed"
    assert "no extractable text" in job["error"]
    record = api.get("/documents/blank.pdf", params={"collection": collection}).json()
    assert record["status"] == "failed" and "no extractable text" in record["error"]


def test_unknown_job_is_a_problem(api: httpx.Client) -> None:
    response = api.get("/jobs/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 200


def test_a_collection_indexed_with_another_model_is_refused(
    api: httpx.Client, local_stack: Stack, collection: str
) -> None:
    other = EmbeddingSpec("someone/else-large", 1024, normalized=True, max_input_tokens=510)
    ChromaStore(f"http://127.0.0.1:{local_stack.chroma_port}").ensure_collection(collection, other)

    response = api.post(
        "/documents", json={"collection": collection, "documents": [{"text": "Some text."}]}
    )
    assert response.status_code == 409, response.text
    assert "someone/else-large" in response.json()["detail"]
    assert api.get("/documents", params={"collection": collection}).json()["total"] == 0
    search = api.post("/search", json={"collection": collection, "question": "text?"})
    assert search.status_code == 409 and "re-index" in search.json()["detail"]
