"""Finding the chunks that answer a question: embed it with the collection's own model, then
ask the vector store for the nearest chunks.

The question is embedded by the same embedder (same model, pooling, normalisation) that
indexed the collection; a collection indexed with another model is refused, never mixed.
"""

from __future__ import annotations

from docqa.errors import Conflict, NotFound
from docqa.models import Hit, Metadata
from docqa.ports import Embedder, VectorStore


def dense_search(
    question: str,
    collection: str,
    *,
    top_k: int,
    where: Metadata | None,
    embedder: Embedder,
    store: VectorStore,
) -> list[Hit]:
    spec = store.collection_spec(collection)
    if spec is None:
        raise NotFound(f"collection {collection!r} does not exist (or has no documents yet)")
    if spec != embedder.spec:
        raise Conflict(
            f"collection {collection!r} was indexed with {spec.model_id} ({spec.dimension}-d) "
            f"but this service embeds questions with {embedder.spec.model_id} "
            f"({embedder.spec.dimension}-d); re-index it or configure the same embedder"
        )
    [vector] = embedder.embed([question])
    return store.query(collection, vector, top_k, where)
