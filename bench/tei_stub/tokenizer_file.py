"""TEI's ``/tokenize`` answer computed with a real ``tokenizer.json`` (the ``tokenizers``
library), for the stand-in's ``--tokenizer`` mode: the spans a model's own tokenizer gives, so
the worker's in-process tokenizer (``docqa.adapters.tei_tokenizer``) agrees with it and is used.

As TEI: no truncation or padding, UTF-8 *byte* offsets, ``special`` from the special-tokens
mask (those tokens without offsets), ``text`` the input's bytes between them. ``tokenizers`` is
imported only when this mode is chosen: the default stand-in stays stdlib only."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TokenizerFile:
    """``tokenize(text, add_special_tokens)`` with the tokenizer in ``path`` (a
    ``tokenizer.json``, or a folder holding one)."""

    def __init__(self, path: Path | str) -> None:
        from tokenizers import Tokenizer

        file = Path(path)
        self.path = file / "tokenizer.json" if file.is_dir() else file
        self._tokenizer = Tokenizer.from_file(str(self.path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count_tokens(self, text: str) -> int:
        """The tokens of ``text`` without the special ones."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def tokenize(self, text: str, add_special_tokens: bool = True) -> list[dict[str, Any]]:
        """TEI's ``SimpleToken`` list for one input."""
        encoding = self._tokenizer.encode(text, add_special_tokens=add_special_tokens)
        byte_at = [0]  # the byte offset where each character begins, then the end
        for char in text:
            byte_at.append(byte_at[-1] + len(char.encode()))
        raw = text.encode()
        tokens: list[dict[str, Any]] = []
        for token_id, token, (start, stop), special in zip(
            encoding.ids, encoding.tokens, encoding.offsets, encoding.special_tokens_mask,
            strict=True,
        ):  # fmt: skip
            if special:
                tokens.append(
                    {"id": token_id, "text": token, "special": True, "start": None, "stop": None}
                )
                continue
            first, last = byte_at[start], byte_at[stop]
            piece = raw[first:last].decode(errors="replace")
            tokens.append(
                {"id": token_id, "text": piece, "special": False, "start": first, "stop": last}
            )
        return tokens
