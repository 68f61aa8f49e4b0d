"""What ``docqa check`` reports: the kinds of difference between the catalog and the stores, one
difference, a run's summary, and the rule that finds an indexed document's differences.

An ``indexed`` record of ``chunks=N`` must have exactly one chunk at each position ``0..N-1`` in
each store, the same in both (a chunk's id is ``<document>:<position>:<digest>``, ``Chunk.id``).
A ``failed`` record's chunks may be an earlier version's (a failed new version leaves them
searchable), or none, but the two stores must hold the same ones: one chunk at each position
``0..n-1`` for some ``n``, the same in both (``compare_failed``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from docqa.core.models import DocumentRecord

Kind = Literal[
    "missing_vectors",  # an indexed document's chunk absent from the vector store
    "missing_keywords",  # ... present in the vector store, absent from the keyword index
    "orphan_vectors",  # chunks in the vector store of a document the catalog does not have
    "orphan_keywords",  # ... in the keyword index
    "superseded_vectors",  # an indexed document's chunks that are not its current version's
    "superseded_keywords",
    "count_mismatch",  # two versions' chunks at one position in both stores: which is current?
    "pending_without_job",  # queued, but its job has ended (finished or failed) without it
    "job_missing",  # queued, and its job does not exist (none recorded, or expired)
    "failed_stores_disagree",  # a failed document's chunks: not the same version in both stores
]
KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True)
class Difference:
    kind: Kind
    collection: str
    document_id: str
    chunk_ids: tuple[str, ...] = ()
    detail: str = ""
    content_hash: str | None = None  # the record's when it was found (None: no record)
    job_id: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "collection": self.collection,
            "document_id": self.document_id,
            "chunk_ids": list(self.chunk_ids),
            "detail": self.detail,
        }


@dataclass
class Summary:
    collections: list[str] = field(default_factory=list)
    documents: int = 0
    vectors: int = 0  # chunks read from the vector store
    keywords: int = 0  # chunks read from the keyword index
    found: Counter[str] = field(default_factory=Counter)  # differences by kind
    repaired: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, object]:
        return {
            "collections": self.collections,
            "documents": self.documents,
            "vectors": self.vectors,
            "keywords": self.keywords,
            "differences": sum(self.found.values()),
            "found": {kind: self.found[kind] for kind in KINDS},
            "repaired": {kind: self.repaired[kind] for kind in KINDS},
        }


def compare(record: DocumentRecord, vectors: set[str], keywords: set[str]) -> list[Difference]:
    """An indexed record's differences with its chunk ids in each store (see the module)."""
    n = record.chunks
    at_v, at_k = _by_position(vectors), _by_position(keywords)
    superseded_v = {i for p, ids in at_v.items() if not 0 <= p < n for i in ids}
    superseded_k = {i for p, ids in at_k.items() if not 0 <= p < n for i in ids}
    lost: list[int] = []
    unindexed: list[str] = []
    ambiguous: list[int] = []
    for position in range(n):
        v, k = at_v.get(position, set()), at_k.get(position, set())
        both = v & k
        if len(both) == 1:
            superseded_v |= v - both
            superseded_k |= k - both
        elif len(both) > 1 or len(v) > 1:
            ambiguous.append(position)
        elif v:
            unindexed += v
            superseded_k |= k
        else:
            lost.append(position)

    def difference(kind: Kind, ids: Iterable[str] = (), detail: str = "") -> Difference:
        return Difference(
            kind, record.collection, record.id, tuple(sorted(ids)), detail, record.content_hash
        )

    out = []  # superseded first: a repair re-queues a copy of what is left
    if superseded_v:
        out.append(difference("superseded_vectors", superseded_v, f"the catalog counts {n}"))
    if superseded_k:
        out.append(difference("superseded_keywords", superseded_k, f"the catalog counts {n}"))
    if lost:
        out.append(difference("missing_vectors", detail=f"{len(lost)} of {n} at {_few(lost)}"))
    if ambiguous:
        detail = f"the catalog counts {n}; two versions at {_few(ambiguous)}"
        out.append(difference("count_mismatch", detail=detail))
    if unindexed and not lost and not ambiguous:
        out.append(difference("missing_keywords", unindexed, f"{len(unindexed)} of {n}"))
    return out


def compare_failed(
    record: DocumentRecord, vectors: set[str], keywords: set[str]
) -> Difference | None:
    """A failed record's difference (see the module), its ``chunk_ids`` those to delete from
    both stores: the ones a single store holds when the chunks both hold are one version,
    else all of them (what is left is then no version: nothing is searchable but the record)."""
    if vectors == keywords and _one_version(vectors):
        return None
    both = vectors & keywords
    if _one_version(both):
        extra = vectors ^ keywords
        detail = (
            f"{len(vectors - keywords)} chunks only in the vector store, "
            f"{len(keywords - vectors)} only in the keyword index"
        )
    else:
        extra = vectors | keywords
        detail = f"the chunks in both stores are not one version ({len(extra)} chunks)"
    return Difference(
        "failed_stores_disagree",
        record.collection,
        record.id,
        tuple(sorted(extra)),
        detail,
        record.content_hash,
    )


def _one_version(chunk_ids: set[str]) -> bool:
    """One chunk at each position ``0..n-1``, ``n`` the number of chunks."""
    return sorted(map(position, chunk_ids)) == list(range(len(chunk_ids)))


def _by_position(chunk_ids: Iterable[str]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for chunk_id in chunk_ids:
        found[position(chunk_id)].add(chunk_id)
    return found


def position(chunk_id: str) -> int:
    """The position a chunk id names (``Chunk.id``), -1 for an id of another form."""
    parts = chunk_id.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else -1


def _few(positions: list[int]) -> str:
    shown = ", ".join(map(str, positions[:5]))
    return f"positions {shown}" + (f" and {len(positions) - 5} more" if len(positions) > 5 else "")
