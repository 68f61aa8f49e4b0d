"""Whether a Hugging Face fast tokenizer is additive over whitespace: then chunking tokenizes a
section once, not three times (``docqa.ingest.chunking.counts``).

Additive: a text's tokens are those of its words (runs without whitespace), each word
tokenized alone: whitespace is no token, no token crosses it, and a word's tokens do not depend
on the text around it. So the tokens of a piece of text that starts and ends at whitespace are
exactly the whole text's tokens inside it. Read from the ``tokenizers`` pipeline
(``Tokenizer.to_str()``, the ``tokenizer.json`` layout), each stage must keep to that:

- the normalizer maps each character on its own (``BertNormalizer``: cleaning, CJK spacing,
  accents, lowercase; ``Lowercase``, ``StripAccents``, the Unicode normal forms) or is absent;
- the pre-tokenizer splits at whitespace and drops it (``BertPreTokenizer``, ``Whitespace``,
  ``WhitespaceSplit``, alone or in a ``Sequence`` with ``Punctuation`` or ``Digits``);
- the model works within one pre-token (``WordPiece``, ``WordLevel``, ``BPE`` without
  dropout);
- no added token holds whitespace or takes the whitespace beside it (``lstrip``/``rstrip``).

BERT's family passes (the embedded all-MiniLM-L6-v2, gte-large as TEI serves it); byte-level
BPE and SentencePiece (``ByteLevel``, ``Metaspace``: the space belongs to the next token) do
not. The reading is then checked on ``SAMPLE`` (``holds``): each text's tokens against its
words' tokens, each word tokenized alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from docqa.core.ports import TokenSpans

_NORMALIZERS = frozenset(
    {"BertNormalizer", "Lowercase", "StripAccents", "NFC", "NFD", "NFKC", "NFKD"}
)
_SPLITTERS = frozenset({"BertPreTokenizer", "Whitespace", "WhitespaceSplit"})
_FINER = frozenset({"Punctuation", "Digits"})
_MODELS = frozenset({"WordPiece", "WordLevel", "BPE"})
_WORD = re.compile(r"\S+")


def _stages(stage: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    if stage is None:
        return []
    return list(stage.get(key) or []) if stage.get("type") == "Sequence" else [stage]


def additive(pipeline: dict[str, Any]) -> bool:
    """Whether the tokenizer described by ``pipeline`` (a parsed ``tokenizer.json``) is
    additive over whitespace (see the module's rules)."""
    normalizers = _stages(pipeline.get("normalizer"), "normalizers")
    pre = _stages(pipeline.get("pre_tokenizer"), "pretokenizers")
    model = pipeline.get("model") or {}
    added = pipeline.get("added_tokens") or []
    return (
        all(n.get("type") in _NORMALIZERS for n in normalizers)
        and any(p.get("type") in _SPLITTERS for p in pre)
        and all(p.get("type") in _SPLITTERS | _FINER for p in pre)
        and model.get("type") in _MODELS
        and not model.get("dropout")
        and not any(
            a.get("lstrip") or a.get("rstrip") or any(c.isspace() for c in a.get("content", ""))
            for a in added
        )
    )


def additive_tokenizer(tokenizer: Any) -> bool:
    """``additive`` of a ``tokenizers.Tokenizer``."""
    return additive(json.loads(tokenizer.to_str()))


def holds(token_spans: Callable[[Sequence[str]], list[TokenSpans]], texts: Sequence[str]) -> bool:
    """Whether each of ``texts`` has as tokens those of its words (runs without whitespace),
    each word tokenized alone: no token of whitespace, none across it, none that changes with
    the words around."""
    wholes = token_spans(list(texts))
    words = [(n, m.start(), m.end()) for n, text in enumerate(texts) for m in _WORD.finditer(text)]
    alone = iter(token_spans([texts[n][start:end] for n, start, end in words]))
    expected: list[TokenSpans] = [[] for _ in texts]
    for n, start, _ in words:
        expected[n] += [(a + start, b + start) for a, b in next(alone)]
    return all(list(whole) == want for whole, want in zip(wholes, expected, strict=True))
