"""What the TEI stand-in computes in place of a model: word tokens with UTF-8 byte offsets, hashed
bag-of-words vectors, a deterministic relevance score, and TEI's ``/info`` for either kind.

Stdlib only, pure."""

from __future__ import annotations

import copy
import hashlib
import math
import re
from functools import lru_cache
from typing import Any

DIMENSION = 384
MODEL_ID = "docqa/tei-stub-hashed-words-384"
RERANKER_ID = "docqa/tei-stub-reranker"
MAX_INPUT_LENGTH = 512
MAX_CLIENT_BATCH_SIZE = 32
MAX_BATCH_TOKENS = 16384
CLS, SEP = (101, "[CLS]"), (102, "[SEP]")
VOCABULARY = 30522  # ids as a BERT WordPiece vocabulary has them; 0..999 left to specials
EMBEDDING_TYPE = {"embedding": {"pooling": "mean"}}
RERANKER_TYPE = {"reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}}

_TOKEN = re.compile(r"\w+|[^\w\s]")


@lru_cache(maxsize=1 << 16)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.lower().encode(), digest_size=8).digest(), "big")


def token_id(word: str) -> int:
    return 1000 + _word_hash(word) % (VOCABULARY - 1000)


def count_tokens(text: str) -> int:
    """The tokens of ``text`` without the special ones."""
    return len(_TOKEN.findall(text))


def words(text: str) -> list[tuple[str, int, int]]:
    """(token text, start, stop) with UTF-8 *byte* offsets, as TEI reports them."""
    found = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if text.isascii():
        return found
    byte_at = [0]  # the byte offset where each character begins, then the end
    for char in text:
        byte_at.append(byte_at[-1] + len(char.encode()))
    return [(word, byte_at[start], byte_at[stop]) for word, start, stop in found]


def tokenize(text: str, add_special_tokens: bool = True) -> list[dict[str, Any]]:
    """TEI's ``SimpleToken`` list for one input."""
    tokens = [
        {"id": token_id(word), "text": word, "special": False, "start": start, "stop": stop}
        for word, start, stop in words(text)
    ]
    if not add_special_tokens:
        return tokens
    cls, sep = (
        {"id": i, "text": t, "special": True, "start": None, "stop": None} for i, t in (CLS, SEP)
    )
    return [cls, *tokens, sep]


def embed(text: str, normalize: bool = True, max_tokens: int | None = None) -> list[float]:
    """The hashed bag of words of ``text`` (its first ``max_tokens`` tokens): each word adds ±1
    to one coordinate picked by a hash of the lower-cased word; distinct per text in practice,
    and texts sharing words are close."""
    vector = [0.0] * DIMENSION
    tokens = _TOKEN.findall(text)
    for word in tokens[:max_tokens] if max_tokens is not None else tokens:
        hashed = _word_hash(word)
        vector[hashed % DIMENSION] += 1.0 if (hashed >> 32) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:  # no words: a fixed direction, so the vector is still a unit vector
        vector[0], norm = 1.0, 1.0
    return [x / norm for x in vector] if normalize else vector


def score(query: str, text: str) -> float:
    """The stand-in cross-encoder's relevance: in (0, 1), distinct per text, unrelated to the
    input order (so an answer put back in the wrong order shows)."""
    return (sum(map(ord, query + text)) % 997 + 1) / 999


def info_body(**overrides: Any) -> dict[str, Any]:
    """TEI 1.9.3's full ``/info`` for the stand-in embedding model (any field overridable)."""
    body: dict[str, Any] = {
        "model_id": MODEL_ID,
        "model_sha": None,
        "model_dtype": "float32",
        "served_model_name": MODEL_ID,
        "model_type": EMBEDDING_TYPE,
        "max_concurrent_requests": 512,
        "max_input_length": MAX_INPUT_LENGTH,
        "max_batch_tokens": MAX_BATCH_TOKENS,
        "max_batch_requests": None,
        "max_client_batch_size": MAX_CLIENT_BATCH_SIZE,
        "auto_truncate": False,
        "tokenization_workers": 1,
        "version": "1.9.3",
        "sha": None,
        "docker_label": None,
    }
    body.update(overrides)
    return copy.deepcopy(body)  # tests change what they are given, never the constants


def reranker_info(**overrides: Any) -> dict[str, Any]:
    """``/info`` for the stand-in cross-encoder."""
    fields: dict[str, Any] = {
        "model_id": RERANKER_ID,
        "served_model_name": RERANKER_ID,
        "model_type": RERANKER_TYPE,
    }
    return info_body(**(fields | overrides))


def model_kind(info: dict[str, Any]) -> str | None:
    """``"embedding"``, ``"reranker"`` or ``"classifier"``: the key of ``model_type``."""
    model_type = info.get("model_type")
    return next(iter(model_type), None) if isinstance(model_type, dict) else None
