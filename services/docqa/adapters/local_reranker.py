"""The ``Reranker`` on a sentence-transformers ``CrossEncoder``, in process, on CPU, offline.

``Settings.reranker_model_path`` names the model directory: a Hugging Face
``*ForSequenceClassification`` model with one label (a cross-encoder such as
``cross-encoder/ms-marco-MiniLM-L6-v2``, or one saved by ``CrossEncoder.save``). Nothing is ever
downloaded: ``HF_HUB_OFFLINE=1`` is set unless already set, and the model is loaded with
``local_files_only=True``.

``rerank`` returns the raw logits: higher is more relevant. (TEI answers their sigmoid, so the
two adapters order texts alike but score on different scales.) A pair is cut to ``max_length``
tokens (256 by default), query and text together.

Threads: torch's default is kept (see ``docqa.adapters.local_embedder``). Calls are serialised by
a lock, since a fast tokenizer cannot be used from two threads at once.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docqa.core.errors import Unavailable

SERVICE = "local-reranker"
BATCH_SIZE = 32
MAX_LENGTH = 256


def _architectures(path: Path) -> list[str]:
    """``architectures`` from the directory's ``config.json``; ``Unavailable`` when none."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        return [str(name) for name in config.get("architectures") or []]
    except (OSError, ValueError, AttributeError) as exc:
        raise Unavailable(
            f"no cross-encoder in {str(path)!r}: cannot read config.json ({exc})", service=SERVICE
        ) from exc


class LocalReranker:
    """A sentence-transformers ``CrossEncoder`` on CPU; implements ``docqa.core.ports.Reranker``."""

    def __init__(
        self, model_path: Path | str, *, max_length: int = MAX_LENGTH, device: str = "cpu"
    ) -> None:
        path = Path(model_path)
        architectures = _architectures(path)
        if not any(name.endswith("ForSequenceClassification") for name in architectures):
            raise Unavailable(
                f"no cross-encoder in {str(path)!r}: its architectures are {architectures}, "
                "not a *ForSequenceClassification model",
                service=SERVICE,
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import CrossEncoder

        self._lock = threading.Lock()
        self._model: Any = CrossEncoder(
            str(path),
            device=device,
            max_length=max_length,
            activation_fn=torch.nn.Identity(),  # raw logits
            local_files_only=True,
        )
        if self._model.num_labels != 1:
            raise Unavailable(
                f"the cross-encoder in {str(path)!r} has {self._model.num_labels} labels; "
                "a reranker has one",
                service=SERVICE,
            )

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """The model's logit for each (query, text) pair, in input order (batches of 32)."""
        if not texts:
            return []
        with self._lock:
            scores = self._model.predict(
                [(query, text) for text in texts],
                batch_size=BATCH_SIZE,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [float(score) for score in scores]

    def check(self) -> None:
        """Nothing to check: the model is in memory once constructed."""
