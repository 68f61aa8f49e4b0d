"""A text put straight into fake services as the worker would leave it: chunked small (a few
words a chunk), embedded and keyword-indexed, with its catalog record marked indexed."""

from __future__ import annotations

from docqa.core.models import DocumentRecord, Section
from docqa.ingest.chunking.splitter import chunk_document
from docqa.ingest.indexing import Chunker
from docqa.wiring import Services


def index_text(
    services: Services, collection: str, document_id: str, text: str, title: str | None = None
) -> None:
    embedder = services.embedder
    services.store.ensure_collection(collection, embedder.spec)
    chunks = chunk_document(document_id, [Section(text)], embedder, 12, 2, title=title)
    texts = Chunker(embedder, 12, 2).indexed_texts(chunks)
    services.store.upsert(collection, chunks, embedder.embed(texts))
    services.keywords.upsert(collection, chunks, texts)
    record = DocumentRecord(
        document_id, collection, title, {}, "text", "0" * 64, "indexed", None, len(chunks)
    )
    services.catalog.put([record])
