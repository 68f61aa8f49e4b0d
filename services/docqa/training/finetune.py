"""``docqa finetune``: the embedder and the reranker, from the packaged MiniLM weights.

- Embedder: a SentenceTransformer trained with ``MultipleNegativesRankingLoss`` (each question
  against its own positive and every other positive in the batch; a batch never holds one text
  twice, so no question meets its own positive as a negative). When every pair of a batch has
  negatives, the first of each joins the batch as a hard negative.
- Reranker: a CrossEncoder (``num_labels=1``, a new scoring head on the MiniLM encoder) trained
  with binary cross-entropy on each question's positive (1) and its hard negatives (0): the pair's
  own negatives first, then texts a keyword (BM25) index over all positives ranks high for it.
  Negatives are mined as batches are formed, so mining counts against the time bound.

The embedder is saved with the base model's ``max_seq_length`` (so its chunking spec is the
base's), whatever length it trained at; the reranker with the length it trained at.

Each writes ``out/<kind>-<UTC time>/`` (see ``loop.write_model``); the embedder's directory
loads with ``LocalEmbedder`` (its id differs from the base model's), the reranker's with
``CrossEncoder(path)``.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from docqa.adapters.local_embedder import default_model_path, model_id_of
from docqa.training import pairs as training_pairs
from docqa.training.batching import in_length_order, question_batches, unique_batches
from docqa.training.loop import Bounds, Hyper, Outcome, train, write_model
from docqa.training.negatives import NegativeMiner
from docqa.training.pairs import Pair

EMBEDDER = Hyper(batch_size=32, learning_rate=3e-5, max_seq_length=256)
# A cross-encoder's scoring head starts from nothing: at 3e-5 its loss stayed at the
# constant-score value (1.039) for 50 steps; at 1e-4 it fell to 0.70 in 222 (SQuAD train).
RERANKER = Hyper(batch_size=32, learning_rate=1e-4, max_seq_length=256)
NEGATIVES = 3  # per question, for the reranker


def finetune_embedder(
    pairs_file: Path,
    out: Path,
    *,
    hyper: Hyper = EMBEDDER,
    bounds: Bounds = Bounds(),
    base: Path | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> Path:
    """Train, save and return the new model's directory."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    started = time.monotonic()
    base = _setup(base, threads, hyper.seed)
    chosen = choose(training_pairs.load(pairs_file), bounds, hyper.seed)
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    served_length = model.max_seq_length
    model.max_seq_length = hyper.max_seq_length
    loss = MultipleNegativesRankingLoss(model)
    batches = embedder_batches(chosen, hyper)

    def embed(texts: list[str]) -> torch.Tensor:
        embeddings: torch.Tensor = model(model.preprocess(texts))["sentence_embedding"]
        return embeddings

    def loss_of(batch: list[Pair]) -> torch.Tensor:
        columns = [[pair.question for pair in batch], [pair.positive for pair in batch]]
        if all(pair.negatives for pair in batch):
            columns.append([pair.negatives[0] for pair in batch])
        with _autocast(hyper):
            embedded = [in_length_order(embed, column, len) for column in columns]
        return loss.compute_loss_from_embeddings([e.float() for e in embedded], torch.empty(0))

    outcome = train(
        model,
        iter(batches),
        loss_of,
        data_steps=len(batches),
        hyper=hyper,
        bounds=bounds,
        started=started,
        progress=progress,
    )
    model.max_seq_length = served_length  # the length it serves at, as the base model's
    used = sum(len(batch) for batch in batches[: outcome.steps])
    manifest = _manifest(base, pairs_file, chosen, used, outcome, hyper, bounds, threads)
    manifest["loss"] = "MultipleNegativesRankingLoss"
    return write_model(
        out,
        "embedder",
        lambda path: model.save(str(path), create_model_card=False),
        manifest,
        "SentenceTransformer",
    )


def finetune_reranker(
    pairs_file: Path,
    out: Path,
    *,
    hyper: Hyper = RERANKER,
    negatives: int = NEGATIVES,
    bounds: Bounds = Bounds(),
    base: Path | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> Path:
    """Train, save and return the new model's directory. ``hyper.batch_size`` counts
    (question, text) rows: each step takes ``batch_size // (1 + negatives)`` questions."""
    from sentence_transformers import CrossEncoder

    started = time.monotonic()
    base = _setup(base, threads, hyper.seed)
    chosen = choose(training_pairs.load(pairs_file), bounds, hyper.seed)
    model = CrossEncoder(str(base), num_labels=1, device="cpu", local_files_only=True)
    model.max_seq_length = hyper.max_seq_length  # also the length it is saved to serve at
    weight = torch.tensor(float(negatives)) if negatives > 0 else None
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=weight)  # positives weigh as much as negatives
    batches = reranker_batches(chosen, hyper, negatives)

    def score(rows: list[tuple[str, str]]) -> torch.Tensor:
        scores: torch.Tensor = model(model.preprocess(rows))["scores"]
        return scores.view(-1)

    miner = NegativeMiner([pair.positive for pair in chosen], hyper.seed)

    def loss_of(batch: list[Pair]) -> torch.Tensor:
        rows: list[tuple[str, str]] = []
        labels: list[float] = []
        for pair in batch:
            own = list(pair.negatives[:negatives])
            own += miner.negatives(pair.question, pair.positive, negatives - len(own))
            rows += [(pair.question, text) for text in (pair.positive, *own)]
            labels += [1.0] + [0.0] * len(own)
        with _autocast(hyper):
            logits = in_length_order(score, rows, lambda row: len(row[0]) + len(row[1]))
        return bce(logits.float(), torch.tensor(labels))

    outcome = train(
        model,
        iter(batches),
        loss_of,
        data_steps=len(batches),
        hyper=hyper,
        bounds=bounds,
        started=started,
        progress=progress,
    )
    used = sum(len(batch) for batch in batches[: outcome.steps])
    manifest = _manifest(base, pairs_file, chosen, used, outcome, hyper, bounds, threads)
    manifest.update(loss="BCEWithLogitsLoss", negatives_per_question=negatives)
    return write_model(
        out,
        "reranker",
        lambda path: model.save(str(path), create_model_card=False),
        manifest,
        "CrossEncoder",
    )


def _autocast(hyper: Hyper) -> torch.autocast:
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=hyper.bf16)


def _setup(base: Path | None, threads: int | None, seed: int) -> Path:
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)  # the reranker's new head, dropout
    return Path(base) if base is not None else default_model_path()


def embedder_batches(chosen: list[Pair], hyper: Hyper) -> list[list[Pair]]:
    """The embedder's batches, in training order: a function of the pairs and ``hyper``."""
    return unique_batches(chosen, hyper.batch_size, hyper.epochs, random.Random(hyper.seed))


def reranker_batches(chosen: list[Pair], hyper: Hyper, negatives: int) -> list[list[Pair]]:
    """The reranker's batches of questions, in training order (see ``finetune_reranker``)."""
    questions = max(1, hyper.batch_size // (1 + negatives))
    return question_batches(chosen, questions, hyper.epochs, random.Random(hyper.seed))


def choose(pairs: list[Pair], bounds: Bounds, seed: int) -> list[Pair]:
    """A seeded shuffle, cut to ``bounds.max_pairs``."""
    if not pairs:
        raise training_pairs.PairsFormatError("no pairs to train on")
    chosen = random.Random(seed).sample(pairs, len(pairs))
    return chosen[: bounds.max_pairs] if bounds.max_pairs else chosen


def _manifest(
    base: Path,
    pairs_file: Path,
    chosen: list[Pair],
    used: int,
    outcome: Outcome,
    hyper: Hyper,
    bounds: Bounds,
    threads: int | None,
) -> dict[str, Any]:
    import sentence_transformers
    import transformers

    return {
        "base_model": model_id_of(base),
        "base_model_path": str(base),
        "pairs_file": str(Path(pairs_file).resolve()),
        "pairs_sha256": training_pairs.file_hash(pairs_file),
        "pairs_available": len(chosen),
        "pairs_used": used,
        "steps": outcome.steps,
        "stopped_by": outcome.stopped_by,
        "first_loss": outcome.first_loss,
        "final_loss": outcome.final_loss,
        "seconds": round(outcome.seconds, 1),
        "hyperparameters": asdict(hyper),
        "bounds": asdict(bounds),
        "threads": threads or torch.get_num_threads(),
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
    }
