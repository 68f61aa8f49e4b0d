"""``ChromaStore`` on the stack's real Chroma server: reads that meet a collection's first write.

Chroma 1.5 records a collection's dimension as its first write arrives and builds the HNSW index
while it applies that write; a query in between is answered "Error creating hnsw segment reader:
Nothing found on disk" (a 500). docqa creates a collection (``ensure_collection``) before the
worker's first upsert, so a search can land there: schemathesis's first /search on ``default``
did, while the worker wrote the first document it had posted there.
"""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import chromadb
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InternalError

from docqa.adapters.chroma import PREFIX, ChromaStore
from docqa.core.models import Chunk, EmbeddingSpec
from docqa.stack.local import Stack

SPEC = EmbeddingSpec("test/random-384", 384, normalized=True, max_input_tokens=256)
RECORDS = 2000  # one batch; the index is missing for about a tenth of its upsert (measured)


def unit_vectors(n: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    rows = [[rng.gauss(0, 1) for _ in range(SPEC.dimension)] for _ in range(n)]
    return [[x / sum(v * v for v in row) ** 0.5 for x in row] for row in rows]


def test_a_query_during_a_collections_first_write_waits_for_its_index(
    local_stack: Stack,
) -> None:
    url = f"http://127.0.0.1:{local_stack.chroma_port}"
    name = f"t{uuid.uuid4().hex[:12]}"
    store = ChromaStore(url)
    store.ensure_collection(name, SPEC)  # as the worker does before its first upsert
    chunks = [Chunk("doc", i, f"chunk {i}") for i in range(RECORDS)]
    vectors = unit_vectors(RECORDS, seed=1)
    [question] = unit_vectors(1, seed=2)
    raw = chromadb.HttpClient(
        host="127.0.0.1",
        port=local_stack.chroma_port,
        settings=ChromaSettings(anonymized_telemetry=False),
    ).get_collection(PREFIX + name)

    met, answered = 0, []
    with ThreadPoolExecutor(1) as pool:
        writing = pool.submit(store.upsert, name, chunks, vectors)
        while not writing.done():
            try:
                raw.query(query_embeddings=[question], n_results=5)  # type: ignore[arg-type]
            except InternalError as exc:
                assert "Nothing found on disk" in str(exc), exc
                met += 1
                # The index is missing right now: the store's query must still answer, with
                # what the write has applied by then (5 hits in every run so far).
                answered.append(store.query(name, question, top_k=5))
        writing.result()

    assert met > 0, "no query met the missing index: the write was too short to show it"
    assert len(answered) == met
    assert all(hit.document_id == "doc" for hits in answered for hit in hits), answered
    assert len(store.query(name, question, top_k=5)) == 5
