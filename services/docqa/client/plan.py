"""What to send, what is unchanged, what to delete, and in which batches (no I/O).

A document whose stored content hash (``docqa.ingest.identity``'s rule, the server's) is equal,
and not failed, is not sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docqa.client.sources import Document

# A request's share of the server's limits (defaults: 100 MiB a request, 1000 files a form,
# 10,000 documents a JSON body): smaller batches keep several in flight and progress smooth.
BATCH_BYTES = 8 * 1024 * 1024
BATCH_DOCUMENTS = 100
STORED = ("queued", "indexed")  # a failed document is sent again, as the server would take it


def unchanged(document: Document, stored: dict[str, tuple[str, str]]) -> bool:
    """``stored``: id → (content hash, status), as ``GET /documents`` lists them."""
    seen = stored.get(document.id)
    return seen is not None and seen[0] == document.content_hash and seen[1] in STORED


def batches(
    documents: Iterable[Document],
    max_bytes: int = BATCH_BYTES,
    max_documents: int = BATCH_DOCUMENTS,
) -> Iterator[list[Document]]:
    """Consecutive documents of one kind (files or texts) up to ``max_bytes`` and
    ``max_documents`` a batch; a document over ``max_bytes`` goes alone (the server judges)."""
    batch: list[Document] = []
    size = 0
    for document in documents:
        if batch and (
            len(batch) >= max_documents
            or size + document.size > max_bytes
            or batch[0].is_file != document.is_file
        ):
            yield batch
            batch, size = [], 0
        batch.append(document)
        size += document.size
    if batch:
        yield batch


def to_delete(
    stored: Iterable[str], local: set[str], prefixes: list[str], *, walk_failed: bool
) -> list[str]:
    """Stored ids under one of ``prefixes`` ("" is the whole collection) with no local
    document; refused (ValueError) when the walk had errors or found nothing."""
    if walk_failed:
        raise ValueError("the walk had errors: nothing is deleted")
    if not local:
        raise ValueError("the walk found no documents: nothing is deleted")
    return sorted(i for i in stored if i not in local and any(i.startswith(p) for p in prefixes))
