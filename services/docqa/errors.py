"""The one exception tree. Routes raise these; ``api/problems.py`` maps each to a status.

DocqaError
├── InvalidInput            422  the request is well-formed but its content is not acceptable
│   ├── EmptyDocument            empty or whitespace-only text
│   ├── UnsupportedFileType 415  an extension we do not read
│   ├── FileContentMismatch      the bytes are not what the extension says
│   └── NoExtractableText        a PDF (or HTML) with no text in it
├── TooLarge                413  a document or request over the configured limit
├── NotFound                404  document, job or collection
├── Conflict                409  e.g. the collection was indexed with another embedding model
└── UpstreamError           502  an outside system answered with an error
    └── Unavailable         503  an outside system could not be reached (or is overloaded)
"""

from __future__ import annotations


class DocqaError(Exception):
    """Base class; ``title`` is the short, fixed summary shown in problem+json."""

    title = "Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DocqaError):
    title = "Invalid input"


class EmptyDocument(InvalidInput):
    title = "Empty document"


class UnsupportedFileType(InvalidInput):
    title = "Unsupported file type"


class FileContentMismatch(InvalidInput):
    title = "File content does not match its type"


class NoExtractableText(InvalidInput):
    title = "No extractable text"


class TooLarge(DocqaError):
    title = "Too large"


class NotFound(DocqaError):
    title = "Not found"


class Conflict(DocqaError):
    title = "Conflict"


class UpstreamError(DocqaError):
    """An outside system (TEI, Chroma, the generator) answered with an error."""

    title = "Upstream error"

    def __init__(self, detail: str, *, service: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.service = service
        self.status = status


class Unavailable(UpstreamError):
    """An outside system could not be reached, timed out, or said it is overloaded."""

    title = "Service unavailable"
