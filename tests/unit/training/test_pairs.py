"""Training pairs: SQuAD JSON and JSONL in, feedback records converted, JSONL out."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from docqa.adapters.feedback import FeedbackRecord, MarkedChunk
from docqa.training.pairs import (
    Pair,
    PairsFormatError,
    file_hash,
    from_feedback,
    load,
    parse_jsonl,
    write_jsonl,
)

ETNA = "Mount Etna on Sicily is one of the most active volcanoes in the world."
BEES = "Honey bees communicate the direction of flowers with a waggle dance."


def squad_file(path: Path) -> Path:
    data = [
        {
            "title": "Mixed",
            "paragraphs": [
                {
                    "context": ETNA,
                    "qas": [
                        {"id": "q1", "question": "Where is Mount Etna?", "answers": []},
                        {"id": "q2", "question": "  ", "answers": []},  # blank: skipped
                    ],
                },
                {"context": BEES, "qas": [{"id": "q3", "question": "How do bees point?"}]},
            ],
        }
    ]
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def test_a_squad_file_pairs_each_question_with_its_paragraph(tmp_path: Path) -> None:
    found = load(squad_file(tmp_path / "train.json"))
    assert found == [Pair("Where is Mount Etna?", ETNA), Pair("How do bees point?", BEES)]


def test_jsonl_with_and_without_negatives(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    lines = [
        {"question": " Where is Etna? ", "positive": ETNA, "negatives": [BEES, " "]},
        {"question": "How do bees point?", "positive": BEES},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    assert load(path) == [
        Pair("Where is Etna?", ETNA, (BEES,)),  # blank negatives dropped, question stripped
        Pair("How do bees point?", BEES),
    ]


def test_a_single_line_of_jsonl_is_not_mistaken_for_squad(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"question": "Where is Etna?", "positive": ETNA}))
    assert load(path) == [Pair("Where is Etna?", ETNA)]


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ('{"question": "q", "positive": "p"}\nnot json\n', ":2: not JSON"),
        ('{"question": "q"}\n', "'positive'"),
        ('{"question": "", "positive": "p"}\n', "'question'"),
        ('{"question": "q", "positive": "p", "negatives": "n"}\n', "'negatives'"),
        ("[1, 2]\n", "expected an object"),
        ("\n\n", "no pairs"),
        ('{"data": [{"paragraphs": [{"context": ""}]}]}', "no 'context'"),
    ],
)
def test_malformed_files_are_refused_saying_where(tmp_path: Path, text: str, mentions: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PairsFormatError, match=mentions.replace("[", r"\[")):
        load(path)


def test_feedback_gives_a_pair_per_relevant_chunk_with_the_irrelevant_as_negatives() -> None:
    def marked(n: int, text: str) -> MarkedChunk:
        return MarkedChunk(chunk_id=f"d:{n}:x", document_id="d", text=text)

    records = [
        FeedbackRecord(
            id="1",
            collection="c",
            question="Where is Etna?",
            relevant=(marked(0, ETNA), marked(1, "Etna is in Italy.")),
            irrelevant=(marked(2, BEES), marked(3, BEES)),
        ),
        FeedbackRecord(
            id="2", collection="c", question="Nothing helped", relevant=(), irrelevant=()
        ),
    ]
    assert from_feedback(records) == [
        Pair("Where is Etna?", ETNA, (BEES,)),
        Pair("Where is Etna?", "Etna is in Italy.", (BEES,)),
    ]
    again = FeedbackRecord.from_json(records[0].to_json())
    assert again == records[0]


def test_written_pairs_load_back_and_the_file_hash_is_its_sha256(tmp_path: Path) -> None:
    pairs = [Pair("Where is Etna?", ETNA, (BEES,)), Pair("How do bees point?", BEES)]
    path = tmp_path / "out" / "pairs.jsonl"
    write_jsonl(pairs, path)
    assert load(path) == pairs
    assert parse_jsonl(path.read_text(encoding="utf-8")) == pairs
    assert file_hash(path) == hashlib.sha256(path.read_bytes()).hexdigest()
