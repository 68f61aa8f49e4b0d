"""The answer calibrations' pieces: the in-memory hybrid index, the logistic fit, the
abstention figures and ROC AUC, the support calibration's pairs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from docqa.answer.support import check
from docqa.answer.support_rule import RULE
from docqa.core.models import Hit
from docqa.evaluation.abstention_calibration import figures
from docqa.evaluation.excerpt_calibration import fit_pick
from docqa.evaluation.memory_index import CachedEmbedder, InMemoryIndex, holds
from docqa.evaluation.support_calibration import pairs, roc_auc
from docqa.evaluation.support_threshold import cached, threshold_on
from support.fakes import FakeEmbedder


def test_the_in_memory_index_finds_the_paragraph_by_meaning_and_words(tmp_path: Path) -> None:
    embedder = CachedEmbedder(FakeEmbedder(256), tmp_path / "cache.pkl")
    paragraphs = ["Owls hunt at night.", "Mount Karsk erupted in 1911.", "Plums grow on trees."]
    index = InMemoryIndex(paragraphs, embedder)
    [vector] = embedder.embed(["When did Mount Karsk erupt?"])
    hits = index.retrieve("When did Mount Karsk erupt?", vector)
    assert hits[0].text == paragraphs[1] and hits[0].similarity is not None
    embedder.save()
    assert len(CachedEmbedder(FakeEmbedder(256), tmp_path / "cache.pkl").known) == 4


def test_the_logistic_fit_separates_what_a_feature_separates() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(400, 7))
    y = (x[:, 0] > 0.5).astype(float)
    pick = fit_pick(x, y)
    assert pick.cosine > 5 and abs(pick.overlap) < 2 and abs(pick.number) < 2
    rest = (0.5,) * 6
    assert pick.score(0.9, *rest) > 0.9 > 0.1 > pick.score(0.1, *rest)


def test_auc_and_abstention_figures() -> None:
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert roc_auc([0.5], [0.5]) == 0.5
    scores, labels = np.array([0.9, 0.8, 0.3, 0.2, 0.7]), np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    found = figures(scores, labels, 0.75)
    assert found["out_of_corpus_refused"] == 1.0 and found["answerable_refused"] == 0.0
    assert found["precision"] == 1.0
    assert figures(scores, labels, 0.5)["precision"] == 2 / 3


def test_a_gold_answer_is_held_verbatim() -> None:
    assert holds("It erupted in 1911.", ["1742", "1911"])
    assert not holds("It erupted in 1911.", ["  ", "1912"])


def test_support_pairs_are_supported_wrong_fact_and_off_passage() -> None:
    article = {
        "paragraphs": [
            {"context": "Karsk erupted in 1911.", "qas": [q("When did Karsk erupt?", "1911")]},
            {"context": "Pelora erupted in 1742.", "qas": [q("When did Pelora erupt?", "1742")]},
        ]
    }
    made = pairs([article], per_paragraph=1)
    first = [p for p in made if p.claim.startswith("When did Karsk erupt")]
    assert {(p.kind, p.label) for p in first} == {
        ("supported", 1),
        ("wrong fact", 0),
        ("off passage", 0),
    }
    assert next(p for p in first if p.kind == "wrong fact").claim == "When did Karsk erupt 1742."


def q(question: str, answer: str) -> dict[str, object]:
    return {"question": question, "answers": [{"text": answer}]}


def test_the_threshold_is_the_one_that_agrees_best_with_the_labelled_sentences() -> None:
    karsk = "Mount Karsk is a volcano in the south. It last erupted in 1911."
    rows = [
        label_row("Mount Karsk last erupted in 1911.", karsk, True),
        label_row("Mount Karsk is a volcano that erupted.", karsk, True),
        label_row("Bananas erupted in the south.", karsk, False),
    ]
    embedder = FakeEmbedder(512)
    found = threshold_on(rows, embedder.embed)
    assert found["agreement"] == 1.0 and found["sentences"] == 3
    low, high = found["agreeing_best"]
    assert low <= found["threshold"] <= high
    # the two supported sentences pass the chosen threshold, the banana does not
    rule = replace(RULE, threshold=found["threshold"])
    verdicts_at = [
        check(r["answer"], [Hit("s1", "s1", karsk, 0.0, {})], embedder.embed, rule) for r in rows
    ]
    assert [v.sentences[0].supported for v in verdicts_at] == [True, True, False]


def test_a_cached_embedder_embeds_each_text_once() -> None:
    embedder = FakeEmbedder(64)
    embed = cached(embedder.embed)
    first = embed(["a b", "c d"])
    assert embed(["c d", "a b", "e f"]) == [first[1], first[0], embedder.vector("e f")]
    assert embedder.calls == [2, 1]


def label_row(sentence: str, passage: str, label: bool) -> dict[str, Any]:
    return {
        "set": "squad-train",
        "question": "",
        "answer": sentence,
        "index": 0,
        "sentence": sentence,
        "sources": [passage],
        "label": label,
    }
