"""The ports of the models: the embedder (which tokenizes too), the reranker and the generator."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol

from docqa.core.models import EmbeddingSpec, Generation, Prompt

# Character offsets (start, end) of each token of a text, special tokens left out.
TokenSpans = list[tuple[int, int]]


class Tokenizer(Protocol):
    def token_spans(self, texts: Sequence[str]) -> list[TokenSpans]: ...

    @property
    def additive(self) -> bool:
        """Whether a text's tokens are those of its words (runs without whitespace), each word
        tokenized alone: then the tokens of a piece bounded by whitespace are the whole text's
        inside it (``docqa.adapters.additivity``; chunking tokenizes a section once)."""
        ...


class Embedder(Tokenizer, Protocol):
    """Turns texts into vectors (and tokenizes with the same model, for chunking)."""

    @property
    def spec(self) -> EmbeddingSpec: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Splits into batches the server accepts by itself."""
        ...

    def check(self) -> None:
        """Raise ``Unavailable`` when the embedder cannot serve."""
        ...


class Reranker(Protocol):
    """A cross-encoder that scores (query, text) pairs together: slower, sharper than vectors."""

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """One relevance score per text, in the order given; higher is more relevant."""
        ...

    def check(self) -> None:
        """Raise ``Unavailable`` when the reranker cannot serve."""
        ...


class Generator(Protocol):
    """A text generator behind an OpenAI-compatible server (vLLM, llama.cpp's server)."""

    async def context_window(self) -> int:
        """Tokens the model accepts, prompt and answer together (cached after the first call)."""
        ...

    async def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the server's tokenizer (a conservative estimate without one)."""
        ...

    async def generate(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> Generation: ...

    def stream(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[str | Generation, None]:
        """Text pieces as they come, then one final ``Generation`` (whole text and usage).

        Close the iterator (``aclose()``, or ``contextlib.aclosing``) to stop generating early.
        """
        ...

    async def check(self) -> None:
        """Raise ``Unavailable`` when the generator cannot serve."""
        ...
