"""Word and PowerPoint uploads through POST /documents: indexed with their sections and slide
numbers, found by search; refused at upload (nothing stored changes) when they are not what
their extension says, are zip bombs, or are legacy .doc/.ppt files."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from support.api import assert_problem, chunks, wait_for_job
from support.office_files import make_docx, make_pptx, repack


def post_files(api: httpx.Client, collection: str, *files: tuple[str, bytes]) -> httpx.Response:
    return api.post(
        "/documents",
        data={"collection": collection},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )


def test_word_and_powerpoint_files_are_indexed_with_sections_and_slides(
    api: httpx.Client, collection: str
) -> None:
    deck_file = make_pptx(empty_slide=True)  # slides 1 and 3 have text
    accepted = post_files(api, collection, ("report.docx", make_docx()), ("deck.pptx", deck_file))
    assert accepted.status_code == 202, accepted.text
    assert wait_for_job(api, accepted.json()["job_id"])["state"] == "finished"

    report = chunks(api, collection, "report.docx")
    sections = [(c["metadata"].get("section"), c["metadata"].get("heading_level")) for c in report]
    assert sections == [(None, None), ("Owls", 1), ("Owls \u203a Barn owls", 2)]
    assert "Barn owl | night | screech" in report[1]["text"]
    deck = chunks(api, collection, "deck.pptx")
    assert [c["metadata"]["slide"] for c in deck] == [1, 3]
    assert deck[0]["metadata"]["section"] == "Quarterly owls"
    assert "Mention the barn survey." in deck[0]["text"]  # the speaker notes

    found = api.post(
        "/search",
        json={
            "question": "What should the talk mention about the barn survey?",
            "collection": collection,
        },
    ).json()["hits"]
    assert found[0]["document_id"] == "deck.pptx" and found[0]["metadata"]["slide"] == 1


def _bomb() -> bytes:
    """A .docx whose parts claim 300 MB unpacked (~300 kB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", zipfile.ZipFile(io.BytesIO(make_docx())).read(
            "[Content_Types].xml"))  # fmt: skip
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            for _ in range(300):
                part.write(bytes(1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "status", "mentions"),
    [
        ("old.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), 415, "as .docx"),
        ("old.ppt", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), 415, "as .pptx"),
        ("deck.docx", make_pptx, 422, "no Word (.docx) main part"),
        ("notes.pptx", lambda: b"just some text", 422, "not a ZIP package"),
        ("bomb.docx", _bomb, 422, "zip bomb"),
        ("gutted.docx", lambda: repack(make_docx(), drop="word/document.xml"), 422, "lacks it"),
    ],
)
def test_bad_office_files_are_refused_and_nothing_stored_changes(
    api: httpx.Client, collection: str, name: str, make: object, status: int, mentions: str
) -> None:
    kept = post_files(api, collection, ("kept.docx", make_docx()))
    assert wait_for_job(api, kept.json()["job_id"])["state"] == "finished"
    before = api.get("/documents", params={"collection": collection}).json()
    # In one request with a good file: the whole request is refused, the good file too.
    refused = post_files(api, collection, ("good.pptx", make_pptx()), (name, make()))  # type: ignore[operator]
    assert_problem(refused, status, mentions)
    after = api.get("/documents", params={"collection": collection}).json()
    assert after == before
    assert [d["id"] for d in after["items"]] == ["kept.docx"]
