"""Which questions a fine-tuned model trained on, replayed from its manifest.

Tuning or measuring a model on questions it trained on flatters it, so a tuning set drawn from
the training file must leave them out. A run's batches are a function of its pairs file, seed,
bounds and hyperparameters, all in its manifest (``docqa-model.json``), and it trained on the
first ``steps`` of them; a run continued from another (``--base``) adds its base's questions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docqa.training import pairs as training_pairs
from docqa.training.finetune import choose, embedder_batches, reranker_batches
from docqa.training.loop import MANIFEST, Bounds, Hyper
from docqa.training.pairs import Pair


class ProvenanceError(ValueError):
    """A manifest cannot be replayed: its pairs file is gone or has changed since."""


def trained_questions(model: Path) -> set[str]:
    """Every question ``model`` (a ``docqa finetune`` directory) or any base it was continued
    from trained on; empty for a model that no ``docqa finetune`` run wrote."""
    questions: set[str] = set()
    loaded: dict[tuple[str, str], list[Pair]] = {}  # a chain usually trains on one file
    manifest_path = Path(model) / MANIFEST
    while manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        key = (manifest["pairs_file"], manifest["pairs_sha256"])
        if key not in loaded:
            loaded[key] = _pairs(manifest)
        questions |= _replay(manifest, loaded[key])
        manifest_path = Path(manifest["base_model_path"]) / MANIFEST
    return questions


def _pairs(manifest: dict[str, Any]) -> list[Pair]:
    """The run's pairs file, as it was when the run read it."""
    pairs_file = Path(manifest["pairs_file"])
    if not pairs_file.is_file() or training_pairs.file_hash(pairs_file) != manifest["pairs_sha256"]:
        raise ProvenanceError(
            f"{manifest['model_id']} trained on {pairs_file}, which is missing or has changed"
        )
    return training_pairs.load(pairs_file)


def _replay(manifest: dict[str, Any], pairs: list[Pair]) -> set[str]:
    hyper = Hyper(**manifest["hyperparameters"])
    chosen = choose(pairs, Bounds(**manifest["bounds"]), hyper.seed)
    if manifest["kind"] == "reranker":
        batches = reranker_batches(chosen, hyper, manifest["negatives_per_question"])
    else:
        batches = embedder_batches(chosen, hyper)
    return {pair.question for batch in batches[: manifest["steps"]] for pair in batch}
