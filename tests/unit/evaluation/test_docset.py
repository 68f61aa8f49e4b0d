"""The documentation evaluation set: pages and questions loaded, uploaded as files, scored by
page and by section (evaluation/docset.py), and the committed Docker set itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from docqa.evaluation import docset
from docqa.evaluation.docset import DocSetError, chosen, in_section, page_figures, section_rank
from docqa.training.squad import QuestionItem

SET = Path(__file__).parents[3] / "docs" / "eval" / "docs-set"
J = docset.SEPARATOR


def _pages(root: Path) -> Path:
    (root / "guide").mkdir(parents=True)
    (root / "guide" / "run.md").write_text("# run\n\n## Mount\n\nUse -v.\n", encoding="utf-8")
    (root / "index.html").write_text("<h1>Home</h1>", encoding="utf-8")
    (root / "logo.png").write_bytes(b"\x89PNG")
    return root


def _questions(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def test_pages_are_documents_named_by_their_relative_path(tmp_path: Path) -> None:
    root = _pages(tmp_path / "pages")
    questions = _questions(
        tmp_path / "q.json",
        [
            {
                "question": " How do I mount? ",
                "document": "guide/run.md",
                "section": f"run{J}Mount",
            },
            {"question": "Where is home?", "document": "index.html"},
        ],
    )
    loaded = docset.load(root, questions)
    assert [p.id for p in loaded.corpus.paragraphs] == ["guide/run.md", "index.html"]
    assert loaded.corpus.paragraphs[0].text.startswith("# run")
    assert [(q.id, q.question, q.paragraph_id) for q in loaded.corpus.questions] == [
        ("q1", "How do I mount?", "guide/run.md"),
        ("q2", "Where is home?", "index.html"),
    ]
    assert loaded.sections == {"q1": f"run{J}Mount"}
    assert loaded.corpus.paragraphs[0].question_ids == ["q1"]
    assert loaded.default_collection == docset.load(root, questions).default_collection


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "non-empty list"),
        ([{"question": "x", "document": "guide/missing.md"}], "not a page"),
        ([{"question": "  ", "document": "index.html"}], "no 'question'"),
        ([{"question": "x", "document": "index.html", "section": ""}], "heading path"),
        (["x"], "expected an object"),
    ],
)
def test_bad_questions_are_refused_saying_where(
    tmp_path: Path, items: list[Any], message: str
) -> None:
    root = _pages(tmp_path / "pages")
    with pytest.raises(DocSetError, match=message):
        docset.load(root, _questions(tmp_path / "q.json", items))


def test_a_folder_without_pages_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(DocSetError, match="no pages"):
        docset.load(tmp_path, _questions(tmp_path / "q.json", [{"question": "x"}]))


def test_squad_or_docs_exactly_one(tmp_path: Path) -> None:
    with pytest.raises(DocSetError, match="either"):
        chosen(None, None, None)
    with pytest.raises(DocSetError, match="either"):
        chosen(tmp_path / "s.json", tmp_path, None)
    assert chosen(tmp_path / "s.json", None, None) is None
    root = _pages(tmp_path / "set" / "pages")
    _questions(tmp_path / "set" / "questions.json", [{"question": "x", "document": "index.html"}])
    found = chosen(None, root, None)  # questions.json beside the pages folder by default
    assert found is not None and found.corpus.questions[0].paragraph_id == "index.html"


def test_a_section_is_the_labelled_heading_or_one_under_it() -> None:
    assert in_section(f"run{J}Examples", f"run{J}Examples")
    assert in_section(f"run{J}Examples", f"run{J}Examples{J}Mount volume")
    assert not in_section(f"run{J}Examples", f"run{J}Examples and more")
    assert not in_section(f"run{J}Examples", "run")
    assert not in_section("run", None)


def test_section_rank_counts_each_section_once() -> None:
    hits = [("a.md", "A"), ("a.md", "A"), ("b.md", f"B{J}x"), ("a.md", f"A{J}Options")]
    assert section_rank("a.md", f"A{J}Options", hits) == 3
    assert section_rank("b.md", "B", hits) == 2
    assert section_rank("b.md", "A", hits) is None


def _asked() -> list[QuestionItem]:
    return [QuestionItem("q1", "one", "a.md", ()), QuestionItem("q2", "two", "b.md", ())]


def test_figures_by_page_and_no_section_figures_when_hits_carry_none() -> None:
    hits = {
        "q1": [{"document_id": "a.md"}, {"document_id": "b.md"}],
        "q2": [{"document_id": "a.md"}, {"document_id": "c.md"}, {"document_id": "b.md"}],
    }
    report = page_figures(_asked(), [1, 3], hits, {"q1": "A"})
    figures = report["figures"]
    assert (figures["hit@1"], figures["hit@3"]) == (0.5, 1.0)
    assert figures["section/questions"] == 1 and figures["section/measured"] is False
    assert "section/hit@1" not in figures
    assert report["per_question"][1]["top"] == ["a.md", "c.md", "b.md"]
    assert "section_rank" not in report["per_question"][0]


def test_section_figures_over_the_labelled_questions_when_hits_carry_sections() -> None:
    hits = {
        "q1": [
            {"document_id": "a.md", "section": "A"},
            {"document_id": "a.md", "section": f"A{J}Mount"},
        ],
        "q2": [{"document_id": "b.md", "section": "B"}],
    }
    report = page_figures(_asked(), [1, 1], hits, {"q1": f"A{J}Mount"})
    figures = report["figures"]
    assert figures["section/measured"] is True
    assert (figures["section/hit@1"], figures["section/hit@3"]) == (0.0, 1.0)
    assert figures["section/mrr@10"] == 0.5
    assert report["per_question"][0]["section_rank"] == 2


def test_pages_are_uploaded_as_files_with_their_ids(tmp_path: Path) -> None:
    root = tmp_path / "pages"
    (root / "d").mkdir(parents=True)
    count = docset.UPLOAD_BATCH + 2
    for n in range(count):
        (root / "d" / f"p{n:02}.md").write_text(f"# page {n}\n", encoding="utf-8")
    loaded = docset.load(
        root, _questions(tmp_path / "q.json", [{"question": "x", "document": "d/p00.md"}])
    )
    seen: list[tuple[list[str], list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        ids = [line for line in body.splitlines() if line.startswith("d/p")]
        names = [
            part.split('filename="')[1].split('"')[0]
            for part in body.split("--")[1:-1]
            if 'filename="' in part
        ]
        seen.append((ids, names))
        documents = [{"id": i, "status": "queued"} for i in ids]
        return httpx.Response(
            202, json={"job_id": f"j{len(seen)}", "collection": "c", "documents": documents}
        )

    with httpx.Client(base_url="http://t", transport=httpx.MockTransport(handler)) as api:
        answers = docset.upload(api, "c", loaded.corpus.paragraphs, root)
    assert [a["job_id"] for a in answers] == ["j1", "j2"]
    assert [len(ids) for ids, _ in seen] == [docset.UPLOAD_BATCH, 2]
    assert seen[1] == (["d/p25.md", "d/p26.md"], ["p25.md", "p26.md"])


def test_the_committed_docker_set_loads_with_every_answer_a_page() -> None:
    loaded = docset.load(SET / "pages", SET / "questions.json")
    assert len(loaded.corpus.paragraphs) >= 150
    assert len(loaded.corpus.questions) >= 40
    assert len(loaded.sections) >= 30
    for qid, section in loaded.sections.items():
        page = next(q.paragraph_id for q in loaded.corpus.questions if q.id == qid)
        text = (SET / "pages" / page).read_text(encoding="utf-8")
        last = section.split(J)[-1]
        assert last in text, f"{qid}: heading {last!r} not in {page}"


def test_chunks_add_up_over_every_page_of_documents() -> None:
    stored = [{"id": f"d{n}", "chunks": n} for n in range(5)] + [{"id": "queued", "chunks": None}]
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        offsets.append(offset)
        items = stored[offset : offset + 4]  # the service gives at most 4 a page here
        return httpx.Response(200, json={"items": items, "total": len(stored)})

    with httpx.Client(base_url="http://t", transport=httpx.MockTransport(handler)) as api:
        assert docset.chunks(api, "c") == 0 + 1 + 2 + 3 + 4
    assert offsets == [0, 4]
