"""Finding the chunks that answer a question: embed it with the collection's own model, then
ask the vector store for the nearest chunks.

The question is embedded by the same embedder (same model, pooling, normalisation) that
indexed the collection; a collection indexed with another model is refused, never mixed.
"""

from __future__ import annotations

from docqa.errors import Conflict, NotFound
from docqa.models import EmbeddingSpec, Hit, Metadata
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
    check_model(collection, spec, embedder.spec)
    [vector] = embedder.embed([question])
    return store.query(collection, vector, top_k, where)


def check_model(collection: str, indexed: EmbeddingSpec, current: EmbeddingSpec) -> None:
    """Refuse to mix vectors of two models (or poolings, or normalisations) in one collection."""
    if indexed != current:
        raise Conflict(
            f"collection {collection!r} was indexed with {indexed.model_id} "
            f"({indexed.dimension}-d) but this service embeds with {current.model_id} "
            f"({current.dimension}-d); re-index into a new collection or configure the same model"
        )
