"""The ``Reranker`` over Hugging Face text-embeddings-inference (TEI), synchronous, on httpx
(the shared HTTP handling is in ``docqa.adapters._tei_http``; ``GET /info``, errors, retries
and ``GET /health`` as ``docqa.adapters.tei`` describes them).

``POST /rerank {"query": "...", "texts": [...], "truncate": true, "raw_scores": false}``
answers ``[{"index", "score"}]`` *best first*; the scores are put back in input order here.
``score`` is the sigmoid of the cross-encoder's logit. Only a ``reranker`` model serves it
(others answer 424), so ``TeiReranker`` checks ``model_type`` when constructed. Batches hold
at most ``max_client_batch_size`` texts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from docqa.adapters._tei_http import TeiHttp
from docqa.core.errors import UpstreamError

RERANKER_SERVICE = "tei-reranker"


def scores_in_input_order(ranks: list[Any]) -> list[float]:
    """``/rerank``'s ``[{"index", "score"}]``, best first, as scores in the order sent."""
    try:
        by_index = {int(rank["index"]): float(rank["score"]) for rank in ranks}
        return [by_index[i] for i in range(len(ranks))]
    except (KeyError, TypeError, ValueError) as exc:
        detail = f"unexpected /rerank answer: {exc!r}"
        raise UpstreamError(detail, service=RERANKER_SERVICE) from exc


class TeiReranker:
    """Implements ``docqa.core.ports.Reranker`` over ``POST /rerank``. Reads ``GET /info`` when
    constructed and refuses a server whose model is not a reranker. The arguments are
    ``docqa.adapters.tei.TeiEmbedder``'s."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_key: str | None = None,
        attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = TeiHttp(
            client,
            service=RERANKER_SERVICE,
            api_key=api_key,
            attempts=attempts,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            sleep=sleep,
        )
        info = self._http.info()
        if info.model_type != "reranker":
            raise UpstreamError(
                f"TEI serves {info.model_id!r}, which is not a reranker "
                f"(model_type {info.model_type!r})",
                service=RERANKER_SERVICE,
            )
        self.model_id = info.model_id
        self.max_client_batch_size = info.max_client_batch_size

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """TEI's score (a sigmoid, 0 to 1) per text, in input order."""

        def body(batch: list[str]) -> dict[str, Any]:
            return {"query": query, "texts": batch, "truncate": True, "raw_scores": False}

        size = self.max_client_batch_size
        scores: list[float] = []
        for start in range(0, len(texts), size):
            batch = list(texts[start : start + size])
            scores.extend(self._http.post_split("/rerank", batch, body, scores_in_input_order))
        return scores

    def check(self) -> None:
        self._http.check()
