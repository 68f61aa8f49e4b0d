"""Which collections there are: ``GET /collections``, as far as the caller's key may read.

A collection exists once its first document has been indexed (the worker creates it in the
vector store with the embedding model's spec); until then it is only a name that documents
were posted to.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from docqa.api.deps import PrincipalDep, SettingsDep, StoreDep
from docqa.api.keys import Principal
from docqa.api.problems import responses
from docqa.core.config import Settings
from docqa.core.models import EmbeddingSpec
from docqa.core.ports import VectorStore

router = APIRouter(tags=["collections"])


class CollectionOut(BaseModel):
    name: str
    model: str = Field(description="The embedding model the collection was indexed with")
    dimension: int = Field(description="Its vectors' dimension")
    rerank: bool = Field(description="Whether a reranker is configured (`rerank: true` works)")


class CollectionList(BaseModel):
    items: list[CollectionOut]
    search_mode: str = Field(description="The default search mode (DOCQA_SEARCH_MODE)")


def readable(caller: Principal, store: VectorStore) -> dict[str, EmbeddingSpec]:
    """The collections ``caller`` may read, by name, with their specs."""
    return {name: spec for name, spec in store.collections().items() if caller.may(name, "read")}


def described(name: str, spec: EmbeddingSpec, settings: Settings) -> CollectionOut:
    return CollectionOut(
        name=name,
        model=spec.model_id,
        dimension=spec.dimension,
        rerank=settings.reranker != "none",
    )


@router.get(
    "/collections",
    operation_id="list_collections",
    summary="The collections the caller may read, each with its embedding model",
    responses=responses(401, 429, 503),
)
def list_collections(
    caller: PrincipalDep, settings: SettingsDep, store: StoreDep
) -> CollectionList:
    found = readable(caller, store)
    return CollectionList(
        items=[described(name, spec, settings) for name, spec in found.items()],
        search_mode=settings.search_mode,
    )
