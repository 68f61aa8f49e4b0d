"""The Protocols behind which each outside system sits; adapters (and test fakes) implement them.

By what they serve: ``inference`` (the embedder, the reranker, the generator), ``stores``
(vectors, keywords, the catalog, feedback, request counts, and their listings for
``docqa check``) and ``queues`` (ingest jobs, and checks run as jobs). Every name is imported
from here: ``from docqa.core.ports import Embedder``.
"""

from docqa.core.ports.inference import Embedder, Generator, Reranker, Tokenizer, TokenSpans
from docqa.core.ports.queues import CheckRuns, CheckState, CheckView, JobQueue, PayloadQueue
from docqa.core.ports.stores import (
    Catalog,
    ChunkRef,
    FeedbackLog,
    KeywordIndex,
    Lease,
    ListedCatalog,
    ListedKeywords,
    ListedStore,
    RequestCounter,
    StoredChunk,
    VectorStore,
)

__all__ = [
    "Catalog",
    "CheckRuns",
    "CheckState",
    "CheckView",
    "ChunkRef",
    "Embedder",
    "FeedbackLog",
    "Generator",
    "JobQueue",
    "KeywordIndex",
    "Lease",
    "ListedCatalog",
    "ListedKeywords",
    "ListedStore",
    "PayloadQueue",
    "RequestCounter",
    "Reranker",
    "StoredChunk",
    "TokenSpans",
    "Tokenizer",
    "VectorStore",
]
