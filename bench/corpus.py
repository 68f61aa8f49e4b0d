"""The documents and questions the bench uses: SQuAD v1.1 dev paragraphs, in file order, and
questions about those same paragraphs; synthetic text when the SQuAD file is missing."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SQUAD = REPO.parent / "shared" / "data" / "squad" / "dev-v1.1.json"


@dataclass(frozen=True)
class Paragraph:
    id: str
    title: str
    text: str
    questions: tuple[str, ...] = ()

    def as_document(self) -> dict[str, Any]:
        """The JSON body ``POST /documents`` takes for one document."""
        return {"id": self.id, "title": self.title, "text": self.text}


@dataclass(frozen=True)
class Corpus:
    source: str  # the file read, or "synthetic"
    paragraphs: list[Paragraph] = field(default_factory=list)

    def questions(self, count: int) -> list[str]:
        """``count`` questions spread evenly over the paragraphs (each paragraph's first
        question; its second, third… once every paragraph has given one)."""
        asked = [p for p in self.paragraphs if p.questions]
        if not asked or count <= 0:
            return []
        step = max(1, len(asked) // count)
        chosen: list[str] = []
        round_ = 0
        while len(chosen) < count and round_ < max(len(p.questions) for p in asked):
            for paragraph in asked[::step]:
                if round_ < len(paragraph.questions) and len(chosen) < count:
                    chosen.append(paragraph.questions[round_])
            round_ += 1
        return chosen


def load_squad(path: Path, documents: int) -> Corpus:
    """The first ``documents`` paragraphs of a SQuAD v1.1 file, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    paragraphs: list[Paragraph] = []
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article["paragraphs"]):
            if len(paragraphs) >= documents:
                return Corpus(str(path), paragraphs)
            paragraphs.append(
                Paragraph(
                    id=f"squad-{a}-{p}",
                    title=str(article["title"]).replace("_", " "),
                    text=paragraph["context"],
                    questions=tuple(qa["question"] for qa in paragraph.get("qas", [])),
                )
            )
    return Corpus(str(path), paragraphs)


_WORDS = [
    "river", "harbour", "engine", "council", "archive", "theory", "signal", "market",
    "winter", "garden", "museum", "protocol", "bridge", "century", "library", "station",
    "orbit", "mineral", "treaty", "festival", "algorithm", "island",
]  # fmt: skip


def synthetic(documents: int, seed: int = 0) -> Corpus:
    """Paragraphs of 5 to 8 sentences of random words (~120 tokens), one question each."""
    rng = random.Random(seed)
    paragraphs = []
    for n in range(documents):
        sentences = [
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(10, 16))).capitalize() + "."
            for _ in range(rng.randint(5, 8))
        ]
        subject = " ".join(sentences[0].split()[:4]).lower()
        paragraphs.append(
            Paragraph(
                id=f"synthetic-{n}",
                title=f"Synthetic {n}",
                text=" ".join(sentences),
                questions=(f"What is said about {subject}?",),
            )
        )
    return Corpus("synthetic", paragraphs)


def load(path: Path, documents: int) -> Corpus:
    """SQuAD from ``path`` when it exists, else synthetic text."""
    return load_squad(path, documents) if path.is_file() else synthetic(documents)
