"""Training pairs: a question, a text that answers it, and optionally texts that do not.

The pairs file is JSONL, one object a line: ``{"question": str, "positive": str,
"negatives": [str]}`` (``negatives`` optional). ``load`` also takes a SQuAD v1.1-shaped JSON
file (each question paired with its paragraph) and tells the two apart by content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docqa.core.models import FeedbackRecord
from docqa.training import squad


class PairsFormatError(ValueError):
    """The file is neither pairs JSONL nor SQuAD-shaped JSON; the message says where."""


@dataclass(frozen=True)
class Pair:
    question: str
    positive: str
    negatives: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"question": self.question, "positive": self.positive}
        if self.negatives:
            found["negatives"] = list(self.negatives)
        return found


def load(path: Path) -> list[Pair]:
    """The pairs in a JSONL or SQuAD-shaped JSON file, in file order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PairsFormatError(f"{path}: not UTF-8 text ({exc})") from exc
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None  # several lines of JSON: JSONL
    if isinstance(whole, dict) and "data" in whole:
        try:
            return from_squad(squad.parse(whole, source=str(path)))
        except squad.SquadFormatError as exc:
            raise PairsFormatError(str(exc)) from exc
    return parse_jsonl(text, source=str(path))


def parse_jsonl(text: str, source: str = "<memory>") -> list[Pair]:
    found: list[Pair] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            found.append(_pair(line, f"{source}:{number}"))
    if not found:
        raise PairsFormatError(f"{source}: no pairs")
    return found


def _pair(line: str, where: str) -> Pair:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PairsFormatError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(item, dict):
        raise PairsFormatError(f"{where}: expected an object")
    question, positive = item.get("question"), item.get("positive")
    negatives = item.get("negatives") or []
    if not isinstance(question, str) or not question.strip():
        raise PairsFormatError(f"{where}: 'question' must be a non-empty string")
    if not isinstance(positive, str) or not positive.strip():
        raise PairsFormatError(f"{where}: 'positive' must be a non-empty string")
    if not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
        raise PairsFormatError(f"{where}: 'negatives' must be a list of strings")
    return Pair(question.strip(), positive, tuple(n for n in negatives if n.strip()))


def from_squad(corpus: squad.Corpus) -> list[Pair]:
    """Each question with its own paragraph."""
    texts = {paragraph.id: paragraph.text for paragraph in corpus.paragraphs}
    return [Pair(item.question, texts[item.paragraph_id]) for item in corpus.questions]


def from_feedback(records: Iterable[FeedbackRecord]) -> list[Pair]:
    """One pair per chunk marked relevant, the question's irrelevant chunks as its negatives.

    Records that mark nothing relevant give no pair (there is no positive to learn from)."""
    found: list[Pair] = []
    for record in records:
        negatives = tuple(dict.fromkeys(chunk.text for chunk in record.irrelevant))
        for chunk in record.relevant:
            found.append(Pair(record.question, chunk.text, negatives))
    return found


def write_jsonl(pairs: Sequence[Pair], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair.as_json(), ensure_ascii=False) + "\n")


def file_hash(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
