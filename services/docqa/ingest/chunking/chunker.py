"""A pending document's chunks (``docqa.ingest.chunking.splitter``), each with what the embedder
and the keyword index get for it (``docqa.ingest.chunking.context``), as ``indexing`` writes them;
or a copy's, read from the collection it is copied from (reindex), as they are stored there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from docqa.core.errors import InvalidInput
from docqa.core.models import Chunk, PendingDocument, Section
from docqa.core.ports import Embedder, VectorStore
from docqa.ingest.chunking import context
from docqa.ingest.chunking.splitter import indexed_chunks
from docqa.ingest.formats.extraction import extract_sections


@dataclass(frozen=True)
class Chunker:
    tokenizer: Embedder
    max_tokens: int
    overlap: int
    store: VectorStore | None = None  # where copies' chunks are read
    limit: int | None = None  # the model's max input (default max_tokens): see indexed_texts

    def __call__(self, document: PendingDocument) -> list[Chunk]:
        return [chunk for chunk, _ in self.indexed(document)]

    def indexed(self, document: PendingDocument) -> list[tuple[Chunk, str | None]]:
        """The document's chunks, each with its ``indexed_texts`` text where chunking counted
        it (``chunking.indexed_chunks``), else ``None`` (a copy's, all of them)."""
        if document.copy_from is not None:
            return [(chunk, None) for chunk in self._copy(document, document.copy_from)]
        sections = sections_of(document)
        made = indexed_chunks(
            document.id,
            sections,
            self.tokenizer,
            self.max_tokens,
            self.overlap,
            title=document_title(document, sections),
            # the request's metadata over the file's own (Markdown front matter); neither holds
            # a key the service writes (title, section, start...), so those stay the chunk's
            metadata={**document.metadata, "source": document.source},
            limit=self.limit,
        )
        if not made:
            raise InvalidInput(f"document {document.id!r} has no text to index")
        return made

    def indexed_texts(self, chunks: Sequence[Chunk]) -> list[str]:
        """What the embedder and the keyword index get: each chunk's text after its title and
        heading path, prefix and text within ``limit`` tokens (``context.indexed_texts``)."""
        return context.indexed_texts(chunks, self.tokenizer, self.max_tokens, self.limit)

    def _copy(self, document: PendingDocument, source: str) -> list[Chunk]:
        """The chunks (text and metadata as they are) of the document in another collection:
        re-indexing with a new model keeps every chunk's id."""
        assert self.store is not None, "a chunker for copies needs the store they are read from"
        chunks = [chunk for _, chunk in self.store.chunks(source, document.id)]
        if not chunks:
            raise InvalidInput(f"document {document.id!r} has no chunks in {source!r}")
        return chunks


def document_title(document: PendingDocument, sections: Sequence[Section]) -> str | None:
    """The title sent with a text; for an upload (whose title is its file name) the title its
    content carries (front matter, ``<title>``, first heading: the sections' ``title``), else
    its file name."""
    if document.source == "text":
        return document.title
    found = (str(s.metadata["title"]) for s in sections if s.metadata.get("title"))
    return next(found, document.title)


def sections_of(document: PendingDocument) -> list[Section]:
    if isinstance(document.data, str):
        return [Section(document.data)]
    return extract_sections(document.kind, document.data)
