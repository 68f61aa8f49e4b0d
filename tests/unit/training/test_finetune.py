"""``docqa finetune``: a few steps on a tiny pairs file give models the service can load."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
import torch

from docqa.adapters.local_embedder import LocalEmbedder, default_model_path, model_id_of
from docqa.training.batching import in_length_order, unique_batches
from docqa.training.finetune import choose, finetune_embedder, finetune_reranker, reranker_batches
from docqa.training.loop import MANIFEST, SAVE_RESERVE_S, Bounds, Hyper, train
from docqa.training.negatives import NegativeMiner
from docqa.training.pairs import Pair, file_hash, write_jsonl
from docqa.training.provenance import ProvenanceError, trained_questions
from support.tiny_corpus import PARAGRAPHS

PAIRS = [Pair(q, text) for text, questions in PARAGRAPHS.items() for q in questions]
TINY = Hyper(batch_size=3, learning_rate=5e-5, max_seq_length=32)


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pairs") / "pairs.jsonl"
    write_jsonl(PAIRS, path)
    return path


def manifest_of(path: Path) -> dict[str, object]:
    return dict(json.loads((path / MANIFEST).read_text(encoding="utf-8")))


@pytest.mark.minilm
def test_the_embedder_loads_with_local_embedder_under_its_own_id(
    pairs_file: Path, tmp_path: Path
) -> None:
    path = finetune_embedder(
        pairs_file, tmp_path, hyper=TINY, bounds=Bounds(max_steps=2), threads=2, progress=False
    )
    assert path.parent == tmp_path and path.name.startswith("embedder-")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial left behind
    manifest = manifest_of(path)
    assert manifest["steps"] == 2 and manifest["stopped_by"] == "steps"
    assert manifest["pairs_used"] == 6 and manifest["pairs_available"] == len(PAIRS)
    assert manifest["pairs_sha256"] == file_hash(pairs_file)
    assert manifest["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert isinstance(manifest["final_loss"], float)

    embedder = LocalEmbedder(path)
    base = model_id_of(default_model_path())
    assert embedder.spec.model_id == manifest["model_id"] == f"docqa/{path.name}" != base
    assert embedder.spec.max_input_tokens == 256 - 2  # served at the base's length, not 32
    [vector] = embedder.embed(["Where is Mount Etna?"])
    assert len(vector) == 384


@pytest.mark.minilm
def test_the_reranker_loads_as_a_cross_encoder(pairs_file: Path, tmp_path: Path) -> None:
    from sentence_transformers import CrossEncoder

    hyper = Hyper(batch_size=8, learning_rate=5e-5, max_seq_length=48)
    path = finetune_reranker(
        pairs_file, tmp_path, hyper=hyper, negatives=3, bounds=Bounds(max_steps=2), progress=False
    )
    assert path.name.startswith("reranker-")
    manifest = manifest_of(path)
    assert manifest["steps"] == 2 and manifest["pairs_used"] == 4  # 8 rows = 2 x (1 + 3)
    assert manifest["negatives_per_question"] == 3
    model = CrossEncoder(str(path), device="cpu", local_files_only=True)
    assert model.num_labels == 1 and model.max_seq_length == 48
    scores = model.predict([("Where is Etna?", "Etna is on Sicily."), ("Where?", "Bees dance.")])
    assert len(scores) == 2


@pytest.mark.minilm
def test_the_questions_a_reranker_trained_on_are_replayed_down_its_chain(
    tmp_path: Path,
) -> None:
    pairs_file = tmp_path / "pairs.jsonl"
    write_jsonl(PAIRS, pairs_file)
    hyper = Hyper(batch_size=4, learning_rate=5e-5, max_seq_length=32)  # 2 questions a step
    first = finetune_reranker(
        pairs_file,
        tmp_path / "models",
        hyper=hyper,
        negatives=1,
        bounds=Bounds(max_steps=2),
        progress=False,
    )
    trained = trained_questions(first)
    assert len(trained) == 4 and trained < {pair.question for pair in PAIRS}
    again = replace(hyper, seed=1)
    second = finetune_reranker(
        pairs_file,
        tmp_path,
        hyper=again,
        negatives=1,
        bounds=Bounds(max_steps=1),
        base=first,
        progress=False,
    )
    [batch] = reranker_batches(choose(PAIRS, Bounds(), 1), again, 1)[:1]
    assert trained_questions(second) == trained | {pair.question for pair in batch}
    assert trained_questions(default_model_path()) == set()  # not trained by docqa

    pairs_file.write_text(pairs_file.read_text() + pairs_file.read_text())
    with pytest.raises(ProvenanceError, match="changed"):
        trained_questions(second)


def test_no_batch_holds_a_positive_twice_and_the_order_is_seeded() -> None:
    batches = unique_batches(PAIRS, 4, 2, random.Random(1))
    for batch in batches:
        assert len({pair.positive for pair in batch}) == len(batch) > 1
    seen = Counter(pair for batch in batches for pair in batch)
    assert set(seen) <= set(PAIRS) and max(seen.values()) <= 2
    assert batches == unique_batches(PAIRS, 4, 2, random.Random(1))


def test_slices_in_length_order_give_results_back_in_the_given_order() -> None:
    texts = ["ccc", "a", "bbbb", "dd", "e", "ffffff", "gg"]
    calls: list[list[str]] = []

    def run(part: list[str]) -> torch.Tensor:
        calls.append(part)
        return torch.tensor([[float(len(text)), float(ord(text[0]))] for text in part])

    found = in_length_order(run, texts, len, slice_size=3)
    expected = [[float(len(text)), float(ord(text[0]))] for text in texts]
    assert found.tolist() == expected
    assert [len(part) for part in calls] == [3, 3, 1]
    assert all(max(map(len, a)) <= min(map(len, b)) for a, b in pairwise(calls))


def test_mined_negatives_share_words_with_the_question_but_are_not_the_positive(
    tmp_path: Path,
) -> None:
    texts = list(PARAGRAPHS)
    miner = NegativeMiner(texts)
    lava, colony = texts[1], texts[3]
    found = miner.negatives("Which bee lives in a colony near a volcano?", colony, 2)
    assert colony not in found and len(found) == 2
    assert found[0] in (texts[0], texts[1], texts[2])  # "volcano" or "bee": keyword hits
    topped_up = miner.negatives("zzz unmatched words", lava, 5)  # none match: random ones
    assert len(topped_up) == 5 and lava not in topped_up and len(set(topped_up)) == 5
    assert miner.negatives("volcano", lava, 0) == []


def linear_run(bounds: Bounds, batches: int, started: float | None = None) -> tuple[int, str]:
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    data = iter([torch.ones(4, 2)] * batches)
    outcome = train(
        model,
        data,
        lambda x: model(x).pow(2).mean(),
        data_steps=batches,
        hyper=Hyper(batch_size=4, learning_rate=0.1, max_seq_length=8),
        bounds=bounds,
        started=time.monotonic() if started is None else started,
        progress=False,
    )
    assert len(outcome.losses) == outcome.steps
    return outcome.steps, outcome.stopped_by


def test_the_loop_stops_at_the_end_of_data_steps_or_time() -> None:
    assert linear_run(Bounds(), 20) == (20, "data")
    assert linear_run(Bounds(max_steps=7), 20) == (7, "steps")
    # Started so long ago that the time left is spent: one step, then stop.
    spent = time.monotonic() - (1.0 * 60 - SAVE_RESERVE_S)
    assert linear_run(Bounds(max_minutes=1.0), 20, started=spent) == (1, "time")


@pytest.mark.parametrize(("kind", "lr"), [("embedder", 3e-5), ("reranker", 1e-4)])
def test_the_cli_uses_each_kinds_own_learning_rate_unless_told(
    kind: str, lr: float, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from docqa.cli.main import main
    from docqa.training import finetune

    used: list[float] = []

    def fake(pairs: Path, out: Path, *, hyper: Hyper, **_: object) -> Path:
        used.append(hyper.learning_rate)
        return out

    monkeypatch.setattr(finetune, f"finetune_{kind}", fake)
    argv = ["finetune", kind, "--pairs", "p.jsonl", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert main([*argv, "--lr", "2e-5"]) == 0
    assert used == [lr, 2e-5]
