"""The calibrations' search in process, with no server: docqa's default hybrid search over
texts held in memory (``InMemoryIndex``), an embedder whose vectors are kept across runs
(``CachedEmbedder``), and SQuAD files read into paragraphs and questions (``load``).

``InMemoryIndex``: each text is one chunk, dense by the embedder's cosine, keyword by
``search.bm25`` (docqa's terms, RediSearch's BM25), fused by ``Fusion()`` (the shipped convex
fusion), the top ``TOP_K`` kept.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docqa.core.models import Hit
from docqa.search.bm25 import Bm25
from docqa.search.fusion import Fusion

SQUAD = Path("/work/shared/data/squad")
TOP_K = 5


class CachedEmbedder:
    """Embeds with ``model``, each distinct text once, kept across runs in a pickle."""

    def __init__(self, model: Any, path: Path) -> None:
        self.model = model
        self.path = path
        self.known: dict[str, list[float]] = (
            pickle.loads(path.read_bytes()) if path.exists() else {}
        )

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if self._key(t) not in self.known))
        for start in range(0, len(missing), 256):
            batch = missing[start : start + 256]
            for text, vector in zip(batch, self.model.embed(batch), strict=True):
                self.known[self._key(text)] = vector
        return [self.known[self._key(t)] for t in texts]

    def save(self) -> None:
        self.path.write_bytes(pickle.dumps(self.known))


@dataclass
class Question:
    text: str
    answers: list[str]
    paragraph: int  # the index of its paragraph


class InMemoryIndex:
    def __init__(self, paragraphs: list[str], embedder: CachedEmbedder) -> None:
        self.paragraphs = paragraphs
        self.vectors = np.array(embedder.embed(paragraphs))
        self.keywords = Bm25(paragraphs)
        self.fusion = Fusion()

    def retrieve(self, question: str, vector: Sequence[float]) -> list[Hit]:
        similarities = self.vectors @ np.asarray(vector)
        depth = self.fusion.depth
        order = np.argsort(-similarities)[:depth]
        dense = [self._hit(int(i), float(similarities[i]), float(similarities[i])) for i in order]
        keyword = [self._hit(i, score, None) for i, score in self.keywords.scored(question, depth)]
        return self.fusion.combine(dense, keyword)[:TOP_K]

    def _hit(self, i: int, score: float, similarity: float | None) -> Hit:
        return Hit(str(i), str(i), self.paragraphs[i], score, {"start": 0}, similarity)


def load(name: str, articles: int | None = None) -> tuple[list[str], list[Question]]:
    data = json.loads((SQUAD / name).read_text())["data"][:articles]
    paragraphs: list[str] = []
    questions: list[Question] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                gold = [a["text"] for a in qa["answers"]]
                questions.append(Question(qa["question"], gold, len(paragraphs)))
            paragraphs.append(paragraph["context"])
    return paragraphs, questions


def holds(text: str, answers: Sequence[str]) -> bool:
    return any(answer.strip() and answer.strip() in text for answer in answers)
