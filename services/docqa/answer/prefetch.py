"""Embed what the support check will need while the answer is still being written.

The check (``support.check``) embeds each claim of an answer and the passage spans worth
weighing it against. A sentence's texts are known as soon as the sentence is complete, while
the model writes the next one; the generator runs elsewhere (llama.cpp on a thread of its own,
vLLM on its GPU), so embedding them then takes most of the check off the answer's critical
path: when the answer ends, only its last sentence's texts are left to embed.

``Vectors`` remembers each text's vector for one answer; ``Prefetch`` is fed the answer's
pieces as they stream and, each time a sentence completes, checks the complete sentences in a
worker thread through those ``Vectors`` (the result is dropped: only the vectors are kept). The
final check then embeds through the same ``Vectors``. It is served by exact text, so its
verdicts are those of a check without prefetching; a prefix checked early that differs from
the final answer only costs the texts it embedded for nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence

from anyio import to_thread

from docqa.answer import support, support_rule
from docqa.answer.sentences import split
from docqa.core.models import Hit

log = logging.getLogger(__name__)

# A piece holding one of these may complete a sentence, a list item or a code block.
_ENDS = frozenset(".!?:;\n`")


class Vectors:
    """``embed`` that embeds each distinct text once and remembers its vector (thread-safe)."""

    def __init__(self, embed: support.Embed) -> None:
        self._embed = embed
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            new = [text for text in dict.fromkeys(texts) if text not in self._seen]
        if new:
            vectors = self._embed(new)
            with self._lock:
                self._seen.update(zip(new, vectors, strict=True))
        with self._lock:
            return [self._seen[text] for text in texts]


class Prefetch:
    """The complete sentences of an answer as it streams, checked ahead in a worker thread,
    one check at a time (``grow``); ``settled`` waits for the one under way."""

    def __init__(self, vectors: Vectors, sources: Sequence[Hit], question: str) -> None:
        self._vectors = vectors
        self._sources = tuple(sources)
        self._question = question
        self._text = ""
        self._checked = 0  # complete units checked so far
        self._task: asyncio.Task[None] | None = None

    def grow(self, piece: str) -> None:
        """Take the next piece; when it completes a unit and no check is under way, start one
        over the complete units (all but the last, which may still grow)."""
        self._text += piece
        if not self._sources or not _ENDS.intersection(piece):
            return
        if self._task is not None and not self._task.done():
            return
        units = split(self._text)
        if len(units) - 1 > self._checked:
            self._checked = len(units) - 1
            self._task = asyncio.ensure_future(self._check(self._text[: units[-1].start]))

    async def settled(self) -> None:
        """Wait for the check under way, if any (its vectors are then there to use)."""
        if self._task is not None:
            await self._task

    def cancel(self) -> None:
        """Stop waiting for the check under way (the answer's stream was closed)."""
        if self._task is not None:
            self._task.cancel()

    async def _check(self, prefix: str) -> None:
        try:
            await to_thread.run_sync(
                support.check,
                prefix,
                self._sources,
                self._vectors.embed,
                support_rule.RULE,
                self._question,
            )
        except Exception as exc:  # the final check reports an outage; this one only helps
            log.debug("support check ahead of the answer's end failed: %s", exc)
