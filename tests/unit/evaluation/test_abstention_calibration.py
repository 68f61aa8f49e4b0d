"""The abstention calibration's splits: half of a run of articles indexed, questions asked of
both halves, labelled by whether their article was indexed; a check split from a later
article never touches the earlier ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from docqa.evaluation import abstention_calibration, memory_index
from docqa.evaluation.abstention_calibration import split
from docqa.evaluation.memory_index import CachedEmbedder
from support.fakes import FakeEmbedder

TOPICS = ["owls", "volcanoes", "plums", "rivers", "comets", "ferns"]


def article(topic: str) -> dict[str, object]:
    context = f"All about {topic}: {topic} are studied by people who like {topic}."
    qas = [{"question": f"What about {topic}?", "answers": [{"text": topic}]}]
    return {"title": topic, "paragraphs": [{"context": context, "qas": qas}]}


@pytest.fixture
def squad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = {"data": [article(topic) for topic in TOPICS]}
    (tmp_path / "train.json").write_text(json.dumps(data))
    monkeypatch.setattr(memory_index, "SQUAD", tmp_path)
    monkeypatch.setattr(abstention_calibration, "SQUAD", tmp_path)
    return tmp_path


def test_every_other_article_is_indexed_and_the_rest_are_out_of_corpus(
    squad: Path, tmp_path: Path
) -> None:
    embedder = CachedEmbedder(FakeEmbedder(128), tmp_path / "cache.pkl")
    x, y = split("train.json", 4, 10, embedder)
    assert x.shape == (4, 4)  # two answerable, two out of corpus; four measures each
    assert sorted(y.tolist()) == [0.0, 0.0, 1.0, 1.0]


def test_a_check_split_from_a_later_article_asks_only_its_own_questions(
    squad: Path, tmp_path: Path
) -> None:
    embedder = CachedEmbedder(FakeEmbedder(128), tmp_path / "cache.pkl")
    asked: list[str] = []
    seen = embedder.embed

    def embed(texts: Sequence[str]) -> list[list[float]]:
        asked.extend(text for text in texts if text.startswith("What about"))
        return seen(texts)

    embedder.embed = embed  # type: ignore[method-assign]
    rows, y = split("train.json", 2, 10, embedder, first=4)
    assert rows.shape == (2, 4)
    assert sorted(y.tolist()) == [0.0, 1.0]  # comets indexed, ferns not
    assert sorted(set(asked)) == ["What about comets?", "What about ferns?"]
