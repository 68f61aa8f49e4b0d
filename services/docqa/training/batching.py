"""Batches for training, and running a model over one batch with little padding.

SQuAD paragraphs average about half of 256 tokens, so a batch padded to its longest text is
mostly padding. Each text's embedding (or each pair's score) does not depend on what else is
in the batch, so ``in_length_order`` runs the model over length-sorted slices of the batch and
puts the results back in order: the same numbers for about half the compute.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

from docqa.training.pairs import Pair

T = TypeVar("T")
SLICE = 8  # texts per forward pass within a batch


def unique_batches(
    pairs: Sequence[Pair], size: int, epochs: int, rng: random.Random
) -> list[list[Pair]]:
    """Shuffled batches of ``size`` in which no positive (or question) appears twice; a pair
    that would repeat one waits for the next batch. Batches of one (no negatives) are dropped."""
    batches: list[list[Pair]] = []
    for _ in range(epochs):
        pending = deque(rng.sample(list(pairs), len(pairs)))
        while pending:
            batch: list[Pair] = []
            seen: set[str] = set()
            waiting: list[Pair] = []
            while pending and len(batch) < size:
                pair = pending.popleft()
                if pair.positive in seen or pair.question in seen:
                    waiting.append(pair)
                else:
                    batch.append(pair)
                    seen.update((pair.positive, pair.question))
            pending.extendleft(reversed(waiting))
            if len(batch) > 1:
                batches.append(batch)
    return batches


def question_batches(
    pairs: Sequence[Pair], size: int, epochs: int, rng: random.Random
) -> list[list[Pair]]:
    """Shuffled batches of ``size`` pairs, each pair once an epoch."""
    batches: list[list[Pair]] = []
    for _ in range(epochs):
        order = rng.sample(list(pairs), len(pairs))
        batches += [order[start : start + size] for start in range(0, len(order), size)]
    return batches


def in_length_order(
    run: Callable[[list[T]], torch.Tensor],
    items: Sequence[T],
    length: Callable[[T], int],
    slice_size: int = SLICE,
) -> torch.Tensor:
    """``run`` over ``items`` in slices of similar length; the rows of its results back in
    the order of ``items``."""
    order = sorted(range(len(items)), key=lambda i: length(items[i]))
    parts = [
        run([items[i] for i in order[start : start + slice_size]])
        for start in range(0, len(order), slice_size)
    ]
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return torch.cat(parts)[inverse]
