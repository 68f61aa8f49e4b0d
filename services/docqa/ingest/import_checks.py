"""What an import of vectors carries (``VectorsSpec``, ``ImportedDocument``, ``ImportedChunk``) and
the checks it passes before anything is written: the vectors' model, dimension and
normalisation against the target's (``check_spec``), and each document's id, content hash,
positions 0..n-1, metadata and vectors (``check_documents``). The server applies them before an
import writes (``transfer.import_documents``), ``docqa import`` to a file before it sends any of
it (``bulk/transfer.py``). Pure.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from docqa.core.errors import Conflict, InvalidInput
from docqa.core.models import EmbeddingSpec, Metadata
from docqa.ingest import identity

NORM_TOLERANCE = 1e-3  # |‖v‖ - 1| allowed of a normalised vector (float32 rounding is ~1e-7)
CHUNK_KEYS = frozenset({"document_id", "position"})  # the store adds these to a chunk's own
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class VectorsSpec:
    """What an import's vectors claim to be: the part of ``EmbeddingSpec`` that must match."""

    model_id: str
    dimension: int
    normalized: bool

    @classmethod
    def of(cls, spec: EmbeddingSpec) -> VectorsSpec:
        return cls(spec.model_id, spec.dimension, spec.normalized)


@dataclass(frozen=True)
class ImportedChunk:
    position: int
    text: str
    metadata: Metadata
    embedding: list[float]


@dataclass(frozen=True)
class ImportedDocument:
    id: str
    content_hash: str
    chunks: list[ImportedChunk]
    title: str | None = None
    source: str = "import"
    metadata: Metadata = field(default_factory=dict)


def check_spec(collection: str, given: VectorsSpec, target: EmbeddingSpec, *, new: bool) -> None:
    """``Conflict`` unless the vectors are of the target's model, dimension and normalisation."""
    wanted = VectorsSpec.of(target)
    if given != wanted:
        whose = "the configured embedder" if new else f"collection {collection!r}"
        raise Conflict(
            f"the vectors are {_said(given)} but {whose} has {_said(wanted)}; import into a "
            "collection of that model (or re-embed the documents with docqa ingest)"
        )


def check_document(document: ImportedDocument, spec: VectorsSpec) -> None:
    """``InvalidInput`` naming the document (and chunk) when anything in it is malformed."""
    where = f"document {document.id[:80]!r}"
    reason = identity.problem(document.id)
    if reason is not None:
        raise InvalidInput(f"{where}: invalid id: {reason}")
    if not _HASH.match(document.content_hash):
        raise InvalidInput(f"{where}: content_hash must be 64 lowercase hex digits")
    if not document.chunks:
        raise InvalidInput(f"{where} has no chunks")
    positions = [chunk.position for chunk in document.chunks]
    if positions != list(range(len(positions))):
        raise InvalidInput(
            f"{where}: chunk positions are {_head(positions)}; they must be 0..{len(positions) - 1}"
            " in order"
        )
    for chunk in document.chunks:
        _check_chunk(chunk, spec, f"{where}, chunk {chunk.position}")


def _check_chunk(chunk: ImportedChunk, spec: VectorsSpec, where: str) -> None:
    reserved = sorted(CHUNK_KEYS & chunk.metadata.keys())
    if reserved:
        raise InvalidInput(f"{where}: metadata keys {reserved} are the store's own")
    vector = chunk.embedding
    if len(vector) != spec.dimension:
        raise InvalidInput(f"{where}: embedding has {len(vector)} numbers, not {spec.dimension}")
    if not all(math.isfinite(x) for x in vector):
        raise InvalidInput(f"{where}: embedding holds a non-finite number (NaN or infinity)")
    if spec.normalized:
        norm = math.sqrt(math.fsum(x * x for x in vector))
        if abs(norm - 1.0) > NORM_TOLERANCE:
            raise InvalidInput(f"{where}: embedding's length is {norm:.6g}; normalised is 1")


def check_documents(documents: list[ImportedDocument], spec: VectorsSpec) -> None:
    repeated = sorted(i for i, n in Counter(d.id for d in documents).items() if n > 1)
    if repeated:
        raise InvalidInput(f"document ids appear more than once in one request: {repeated[:5]}")
    for document in documents:
        check_document(document, spec)


def _said(spec: VectorsSpec) -> str:
    shape = "normalised" if spec.normalized else "not normalised"
    return f"{spec.model_id!r} ({spec.dimension}-d, {shape})"


def _head(positions: list[int]) -> str:
    return str(positions[:8])[:-1] + (", ...]" if len(positions) > 8 else "]")
