"""A SQuAD v1.1-shaped file → a ``Corpus``: its unique paragraphs and the questions about them.

Shape: ``{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}]}]}]}]}``. A paragraph's id is derived from its text
(``p-`` + 16 hex digits of its SHA-256), so the same paragraph always gets the same id and
paragraphs repeated in the file collapse into one document whose questions are all linked to it.

An article's ``title`` is its Wikipedia page name, words joined by underscores
(``Super_Bowl_50``); a paragraph's document title is that name as a reader writes it, with
spaces (``Super Bowl 50``: the title is indexed with every chunk), and its ``article`` metadata
the name as the file spells it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SquadFormatError(ValueError):
    """The file is not SQuAD-shaped; the message says where."""


@dataclass(frozen=True)
class QuestionItem:
    id: str
    question: str
    paragraph_id: str
    answers: tuple[str, ...]


@dataclass
class Paragraph:
    id: str
    title: str
    text: str
    question_ids: list[str] = field(default_factory=list)
    article: str | None = None  # the file's name of the article, where it differs from title

    def as_document(self) -> dict[str, Any]:
        """The JSON ``POST /documents`` takes for this paragraph."""
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "metadata": {"article": self.title if self.article is None else self.article},
        }


@dataclass
class Corpus:
    source: str
    paragraphs: list[Paragraph]
    questions: list[QuestionItem]

    @property
    def fingerprint(self) -> str:
        """12 hex digits identifying the paragraphs (ids and titles, in order)."""
        digest = hashlib.sha256()
        for paragraph in self.paragraphs:
            digest.update(f"{paragraph.id}\t{paragraph.title}\n".encode())
        return digest.hexdigest()[:12]

    @property
    def default_collection(self) -> str:
        return f"squad-{self.fingerprint}"


def paragraph_id(text: str) -> str:
    return "p-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def load(path: Path) -> Corpus:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SquadFormatError(f"{path}: not JSON ({exc})") from exc
    return parse(raw, source=str(path))


def parse(raw: Any, source: str = "<memory>") -> Corpus:
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise SquadFormatError(f"{source}: expected an object with a 'data' list (SQuAD v1.1)")
    paragraphs: dict[str, Paragraph] = {}
    questions: list[QuestionItem] = []
    seen_questions: set[str] = set()
    for a, article in enumerate(raw["data"]):
        where = f"{source}: data[{a}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise SquadFormatError(f"{where}: expected an object with a 'paragraphs' list")
        title = str(article.get("title") or f"article-{a}")
        for p, item in enumerate(article["paragraphs"]):
            context = item.get("context") if isinstance(item, dict) else None
            if not isinstance(context, str) or not context.strip():
                raise SquadFormatError(f"{where}.paragraphs[{p}]: no 'context' text")
            pid = paragraph_id(context)
            paragraph = paragraphs.setdefault(
                pid, Paragraph(pid, title.replace("_", " "), context, article=title)
            )
            for q, qa in enumerate(item.get("qas") or []):
                try:
                    qid, question = str(qa["id"]), str(qa["question"]).strip()
                    answers = tuple(str(answer["text"]) for answer in qa.get("answers") or [])
                except (KeyError, TypeError) as exc:
                    raise SquadFormatError(
                        f"{where}.paragraphs[{p}].qas[{q}]: needs 'id' and 'question' ({exc})"
                    ) from exc
                if qid in seen_questions:
                    raise SquadFormatError(f"{where}: question id {qid!r} appears twice")
                if not question:
                    continue  # the API refuses blank questions; nothing to ask
                seen_questions.add(qid)
                paragraph.question_ids.append(qid)
                questions.append(QuestionItem(qid, question, pid, answers))
    if not paragraphs:
        raise SquadFormatError(f"{source}: no paragraphs")
    return Corpus(source=source, paragraphs=list(paragraphs.values()), questions=questions)
