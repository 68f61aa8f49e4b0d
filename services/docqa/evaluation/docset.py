"""A documentation evaluation set → a ``Corpus``: real pages in a folder and questions about them.

Shape: a folder of pages (``.md``, ``.markdown``, ``.html``, ``.htm``, ``.txt``), each a
document whose id is its path relative to the folder, ``/``-separated (``reference/run.md``),
and a questions file, a JSON list of ``{"question", "document", "section"?}``: ``document`` is
the id of the page that answers it, ``section`` (optional) the heading path inside that page
that answers it, headings joined by ``SEPARATOR`` (U+203A with a space each side).

Pages are uploaded as files (multipart ``files`` with an ``ids`` part per file), so the service
reads them as what they are (Markdown, HTML), as ``docqa ingest`` would send them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from docqa.core.headings import SEPARATOR
from docqa.evaluation import metrics
from docqa.evaluation.client import PAGE, call
from docqa.training.squad import Corpus, Paragraph, QuestionItem

EXTENSIONS = (".md", ".markdown", ".html", ".htm", ".txt")
UPLOAD_BATCH = 25  # files per multipart POST /documents


class DocSetError(ValueError):
    """The folder or the questions file is not a documentation set; the message says where."""


@dataclass
class DocSet:
    corpus: Corpus
    sections: dict[str, str]  # question id → labelled heading path, where labelled
    root: Path

    @property
    def default_collection(self) -> str:
        return f"docs-{self.corpus.fingerprint}"


def pages(root: Path) -> list[Path]:
    """The folder's pages, sorted by their id."""
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load(root: Path, questions: Path) -> DocSet:
    root = Path(root)
    if not root.is_dir():
        raise DocSetError(f"{root}: not a folder")
    paragraphs = [
        Paragraph(p.relative_to(root).as_posix(), p.name, p.read_text(encoding="utf-8"))
        for p in pages(root)
    ]
    if not paragraphs:
        raise DocSetError(f"{root}: no pages ({', '.join(EXTENSIONS)})")
    try:
        raw = json.loads(Path(questions).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DocSetError(f"{questions}: not JSON ({exc})") from exc
    return parse(raw, paragraphs, root, source=str(questions))


def parse(raw: Any, paragraphs: list[Paragraph], root: Path, source: str = "<memory>") -> DocSet:
    if not isinstance(raw, list) or not raw:
        raise DocSetError(f"{source}: expected a non-empty list of questions")
    known = {p.id: p for p in paragraphs}
    questions: list[QuestionItem] = []
    sections: dict[str, str] = {}
    for n, item in enumerate(raw):
        where = f"{source}[{n}]"
        if not isinstance(item, dict):
            raise DocSetError(f"{where}: expected an object")
        question, document = item.get("question"), item.get("document")
        if not isinstance(question, str) or not question.strip():
            raise DocSetError(f"{where}: no 'question' text")
        if document not in known:
            raise DocSetError(f"{where}: document {document!r} is not a page of {root}")
        qid = f"q{n + 1}"
        questions.append(QuestionItem(qid, question.strip(), str(document), ()))
        known[str(document)].question_ids.append(qid)
        section = item.get("section")
        if section is not None:
            if not isinstance(section, str) or not section.strip():
                raise DocSetError(f"{where}: 'section' must be a non-empty heading path")
            sections[qid] = section.strip()
    return DocSet(Corpus(str(root), paragraphs, questions), sections, root)


def upload(
    api: httpx.Client, collection: str, batch: list[Paragraph], root: Path
) -> list[dict[str, Any]]:
    """POST the pages as files, ``UPLOAD_BATCH`` at a time; the service's answers."""
    answers = []
    for start in range(0, len(batch), UPLOAD_BATCH):
        part = batch[start : start + UPLOAD_BATCH]
        files = [("files", (Path(p.id).name, (root / p.id).read_bytes())) for p in part]
        answers.append(
            call(
                api,
                "POST",
                "/documents",
                data={"collection": collection, "ids": [p.id for p in part]},
                files=files,
            )
        )
    return answers


def fingerprint(root: Path) -> str:
    """12 hex digits of the pages' ids and bytes: what the set's reports were measured on."""
    digest = hashlib.sha256()
    for page in pages(root):
        digest.update(page.relative_to(root).as_posix().encode() + b"\0" + page.read_bytes())
    return digest.hexdigest()[:12]


def in_section(labelled: str, found: str | None) -> bool:
    """Whether a hit's heading path is the labelled section or lies under it."""
    return found is not None and (found == labelled or found.startswith(labelled + SEPARATOR))


def section_rank(document: str, section: str, hits: Iterable[tuple[str, str | None]]) -> int | None:
    """1-based rank of the first hit from ``document`` within ``section`` among the distinct
    (document, section) hits, or ``None``; several chunks of one section count once."""
    seen = dict.fromkeys(hits)
    for position, (hit_document, hit_section) in enumerate(seen, start=1):
        if hit_document == document and in_section(section, hit_section):
            return position
    return None


PRINTED = (
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("section/hit@1", "section hit@1"),
    ("section/hit@3", "section hit@3"),
    ("section/mrr@10", "section MRR@10"),
)


def page_figures(
    asked: list[QuestionItem],
    ranks: list[int | None],
    hits: dict[str, list[dict[str, Any]]],
    sections: dict[str, str],
) -> dict[str, Any]:
    """hit@1, hit@3 (and MRR@10, in ``metrics.retrieval_figures``) by page; the same by section
    over the questions with a labelled section, when the hits carry a ``section`` (else
    ``section/questions`` says how many were labelled and ``section/measured`` is false)."""
    carried = any("section" in hit for found in hits.values() for hit in found)
    figures: dict[str, Any] = {
        "hit@1": metrics.recall_at(ranks, 1),
        "hit@3": metrics.recall_at(ranks, 3),
        "section/questions": sum(q.id in sections for q in asked),
        "section/measured": carried,
    }
    rows: list[dict[str, Any]] = []
    section_ranks: list[int | None] = []
    for item, rank in zip(asked, ranks, strict=True):
        row: dict[str, Any] = {"id": item.id, "question": item.question}
        row |= {"document": item.paragraph_id, "rank": rank}
        found = hits.get(item.id, [])
        row["top"] = [hit["document_id"] for hit in found[:3]]
        if item.id in sections:
            row["section"] = sections[item.id]
            if carried:
                pairs = ((hit["document_id"], hit.get("section")) for hit in found)
                row["section_rank"] = section_rank(item.paragraph_id, sections[item.id], pairs)
                section_ranks.append(row["section_rank"])
        rows.append(row)
    if carried:
        figures["section/hit@1"] = metrics.recall_at(section_ranks, 1)
        figures["section/hit@3"] = metrics.recall_at(section_ranks, 3)
        figures["section/mrr@10"] = metrics.mrr_at(section_ranks, 10)
    return {"figures": figures, "per_question": rows}


def chosen(squad: Path | None, docs: Path | None, questions: Path | None) -> DocSet | None:
    """``--docs`` (its questions by default ``questions.json`` beside the pages folder) as a
    ``DocSet``; ``None`` with ``--squad``; exactly one of the two must be given."""
    if (docs is None) == (squad is None):
        raise DocSetError("give either --squad FILE or --docs DIR")
    if docs is None:
        return None
    return load(docs, questions or docs.parent / "questions.json")


def chunks(api: httpx.Client, collection: str) -> int:
    """The chunks the collection's documents were cut into (``GET /documents``' ``chunks``)."""
    total, offset = 0, 0
    while True:
        params = {"collection": collection, "offset": offset, "limit": PAGE}
        page = call(api, "GET", "/documents", params=params)
        total += sum(item.get("chunks") or 0 for item in page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return total
