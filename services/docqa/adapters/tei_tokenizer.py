"""Tokenizes in process with the TEI model's own ``tokenizer.json`` (the ``tokenizers``
library), giving the token spans TEI's ``POST /tokenize`` gives, without the round trip.

TEI tokenizes with the same Rust library and the model's ``tokenizer.json``; its ``/tokenize``
(``add_special_tokens: false``, as ``TeiEmbedder`` asks) encodes without truncation or padding
and leaves special tokens (``special_tokens_mask`` 1) without offsets, and the adapter drops
those. ``FastTokenizer`` does the same: truncation and padding, which a ``tokenizer.json`` may
configure (all-MiniLM-L6-v2's truncates at 128 and pads), are switched off when it is loaded.
Python's ``tokenizers`` gives *character* offsets where TEI gives UTF-8 byte offsets, which the
adapter maps to characters; so both sides are compared, and used, in characters.

That the file is the served model's is not taken on trust: ``disagreement`` compares both on
``SAMPLE`` (accents, CJK, emoji, combining marks, a literal ``[SEP]``, whitespace runs, and a
text longer than any model's input, which catches truncation) before ``TeiEmbedder`` uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docqa.adapters.additivity import additive_tokenizer, holds
from docqa.core.ports import TokenSpans

FILE_NAME = "tokenizer.json"
_LONG = " ".join(f"word{n} ends, then (another) part-{n}." for n in range(50))  # ~630 tokens
SAMPLE: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog.",
    "In 1887, Tesla's A.C. motor ran at 3,600 rpm (±5%); see §4.2 & fig. 7b — done!",
    "Café naïve résumé: Zürich, São Paulo, Kraków and Ærøskøbing.",
    "東京は日本の首都です。北京市是中华人民共和国的首都。서울은 한국의 수도입니다.",
    "Emoji 👩🏽‍💻 and flags 🇫🇷 next to text: ok 👍.",
    "Combining: e\u0301 a\u0308 n\u0303; Greek ΑΒΓ δεζ; Cyrillic Привет, мир; Arabic مرحبا.",
    "A literal [SEP] and [CLS] and <s> </s> in prose, [UNK] too.",
    "tabs\tand  double  spaces\n\nnew   lines\r\nand trailing   ",
    "def f(x):\n    return x**2  # code_with_underscores, camelCaseWords, URLs https://a.b/c?d=e",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    _LONG,
)


class TokenizerUnavailable(Exception):
    """The ``tokenizer.json`` could not be read or parsed."""


class FastTokenizer:
    """A ``tokenizers.Tokenizer`` with TEI's ``/tokenize`` settings; ``source`` names its file.
    Encoding does not change the tokenizer, so one instance serves any number of threads."""

    def __init__(self, tokenizer: Any, source: str) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.source = source
        self.additive = additive_tokenizer(tokenizer) and holds(self.token_spans, SAMPLE)

    @classmethod
    def load(cls, path: Path | str) -> FastTokenizer:
        """From a ``tokenizer.json`` file, or a model directory holding one."""
        file = Path(path)
        if file.is_dir():
            file = file / FILE_NAME
        try:
            from tokenizers import Tokenizer

            return cls(Tokenizer.from_file(str(file)), str(file))
        except ImportError as exc:
            raise TokenizerUnavailable(f"the tokenizers library is not installed: {exc}") from exc
        except Exception as exc:  # the library raises bare Exception for unreadable files
            raise TokenizerUnavailable(f"cannot load {str(file)!r}: {exc}") from exc

    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]:
        """Character spans of each text's tokens, special tokens left out, nothing truncated."""
        if not texts:
            return []
        spans: list[TokenSpans] = []
        for encoding in self._tokenizer.encode_batch(list(texts), add_special_tokens=False):
            offsets, special = encoding.offsets, encoding.special_tokens_mask
            if 1 in special:  # none without add_special_tokens, as a rule: then taken as they are
                offsets = [span for span, mask in zip(offsets, special, strict=True) if not mask]
            spans.append(offsets)
        return spans


def disagreement(
    texts: Sequence[str], local: Sequence[TokenSpans], remote: Sequence[TokenSpans]
) -> str | None:
    """None when both tokenizations are the same span for span, else where they first differ."""
    if len(local) != len(remote) or len(texts) != len(local):
        return f"{len(local)} local answers, {len(remote)} from TEI, for {len(texts)} texts"
    for n, (text, mine, theirs) in enumerate(zip(texts, local, remote, strict=True)):
        if list(mine) == list(theirs):
            continue
        at = next(
            (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
            min(len(mine), len(theirs)),
        )
        here = f"{mine[at]}" if at < len(mine) else "nothing"
        there = f"{theirs[at]}" if at < len(theirs) else "nothing"
        return (
            f"sample text {n} ({text[:30]!r}…): {len(mine)} tokens here, {len(theirs)} from TEI; "
            f"token {at} is {here} here, {there} from TEI"
        )
    return None
