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
├── Unauthorized            401  no API key, or not a valid one (when keys are configured)
├── Forbidden               403  a valid key, but the collection or access is outside its scope
├── RateLimited             429  the key (or client) sent too many requests this minute
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


class Unauthorized(DocqaError):
    """No valid ``Authorization: Bearer <key>``; answered with ``WWW-Authenticate: Bearer``."""

    title = "Unauthorized"


class Forbidden(DocqaError):
    title = "Forbidden"


class RateLimited(DocqaError):
    """Too many requests; ``retry_after`` (seconds) becomes the ``Retry-After`` header."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


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
