"""docqa's one stand-in for Hugging Face text-embeddings-inference (TEI), for tests and benches:
over HTTP (``python -m bench.tei_stub``, ``TeiStub`` in a subprocess, ``StubServer`` in a
thread) or in process (``bench.tei_stub.mock.FakeTei`` on ``httpx.MockTransport``).

It speaks TEI 1.9's HTTP protocol as ``tests/contracts/tei-openapi.json`` describes it, for the
routes ``docqa.adapters.tei`` uses, so the real adapters, worker and API run against it unchanged
(``tests/unit/bench/test_tei_stub.py`` checks its answers against that document):

- ``GET /info``: the full ``Info`` object (``model_id``, ``model_type``, ``max_input_length``,
  ``max_client_batch_size``, ``max_batch_tokens``…), of an embedding model or, with
  ``--reranker``, of a cross-encoder.
- ``POST /embed {"inputs", "normalize", "truncate"}``: ``[[float]]`` in input order, one
  ``DIMENSION``-d vector per input: a hashed bag of words (each word adds ±1 to one coordinate
  picked by a hash of the lower-cased word), L2-normalised. Deterministic across processes and
  cheap, so texts sharing words are close: enough for search to find what was indexed.
- ``POST /tokenize {"inputs", "add_special_tokens"}``: TEI's ``SimpleToken`` lists. Tokens are
  words (``\\w+``) and single punctuation marks; ``start``/``stop`` are UTF-8 *byte* offsets, as
  TEI gives them; with ``add_special_tokens`` (TEI's default) ``[CLS]``/``[SEP]`` wrap them as
  special tokens with null offsets. With ``--tokenizer PATH`` (``TeiStub(tokenizer=...)``, or
  ``TEI_STUB_TOKENIZER`` in its environment) the tokens are a real model's instead, from its
  ``tokenizer.json`` (``tokenizer_file``; all-MiniLM-L6-v2's in the tests), so a worker told
  that file tokenizes in process; otherwise its check finds the word tokens differ.
- ``POST /rerank {"query", "texts"}``: ``[{"index", "score"}]`` best first; a deterministic
  score in (0, 1) per text (``model.score``). Only the cross-encoder serves it, and only the
  embedding model ``/embed`` (424 otherwise, as TEI).
- ``GET /health``: 200 with an empty body.
- Errors are TEI's ``{"error": "...", "error_type": "Validation"}`` (the enum's spelling): 400 for
  an empty batch, 422 for a batch over ``max_client_batch_size`` (TEI 1.9's status and message),
  413 for an input over ``max_input_length`` tokens without ``truncate``.

Faults, set at run time (not part of TEI): ``POST /_faults {"statuses": [429, 503], "for_s": 8}``
makes ``/embed`` (or the routes in ``"paths"``) answer those statuses in turn for ``for_s``
seconds: 429 ``{"error": "Model is overloaded", "error_type": "Overloaded"}`` as TEI does when
its queue is full, 503 ``{"error": "unhealthy", "error_type": "Unhealthy"}``. TEI sends no
``Retry-After``; ``"retry_after_s"`` adds one, as a proxy in front of it might. ``{"for_s": 0}``
ends them. ``GET /_faults`` gives the counters: faults served by status, successful
``/embed`` requests and texts, ``/tokenize`` and ``/rerank`` requests. ``DELETE /_faults`` ends
the faults and zeroes the counters.

Modules: ``model`` (tokens, vectors, scores, ``/info``), ``tokenizer_file`` (``--tokenizer``),
``faults``, ``protocol`` (``Tei``: one request in, one ``Reply`` out), ``server`` (HTTP),
``mock`` (httpx, for unit tests). All but ``mock`` and ``tokenizer_file`` use the stdlib alone,
so the server starts in any environment.
"""

from bench.tei_stub.model import (
    DIMENSION,
    MODEL_ID,
    RERANKER_ID,
    embed,
    info_body,
    reranker_info,
    score,
    tokenize,
)
from bench.tei_stub.protocol import Reply, Tei
from bench.tei_stub.server import StubServer, TeiStub

__all__ = [
    "DIMENSION",
    "MODEL_ID",
    "RERANKER_ID",
    "Reply",
    "StubServer",
    "Tei",
    "TeiStub",
    "embed",
    "info_body",
    "reranker_info",
    "score",
    "tokenize",
]
