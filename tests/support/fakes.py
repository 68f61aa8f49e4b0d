"""Fakes for the ports (``docqa.core.ports``), kept in memory, each checked against its Protocol by
mypy (the ``_: ports.X = FakeX()`` lines at the end), and ``fake_services()``, a whole
``Services`` of them to hand to ``create_app(settings, services=...)`` or ``jobs.use(...)``.

They behave like the adapters where callers can tell (ids, order, ``NotFound``/``Conflict``,
superseded updates, atomic submit), with a ``down`` switch where a test needs an outage.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from docqa.core import ports
from docqa.core.config import Settings
from docqa.core.errors import Conflict, NotFound, Unavailable
from docqa.core.models import (
    Chunk,
    DocumentRecord,
    EmbeddingSpec,
    FeedbackRecord,
    Generation,
    Hit,
    IngestJob,
    JobView,
    Metadata,
    Prompt,
    Usage,
)
from docqa.wiring import Services

_WORD = re.compile(r"\S+")


def _matches(metadata: Metadata, where: Metadata | None) -> bool:
    return all(metadata.get(key) == value for key, value in (where or {}).items())


class _Switch:
    """``down = "why"`` makes every call raise ``Unavailable`` naming ``service``."""

    service = "fake"
    down: str | None = None

    def _serve(self) -> None:
        if self.down is not None:
            raise Unavailable(f"{self.service} is down: {self.down}", service=self.service)

    def check(self) -> None:
        self._serve()


class FakeEmbedder(_Switch):
    """Words hashed into ``dimension`` buckets, normalized: texts sharing words are near.
    Tokens are whitespace-separated words (``token_spans``), so chunk sizes count words."""

    service = "embedder"
    additive = False  # as TEI's /tokenize: every piece tokenized by itself

    def __init__(self, dimension: int = 32, max_input_tokens: int = 64, model: str = "fake"):
        self.spec = EmbeddingSpec(model, dimension, True, max_input_tokens)
        self.calls: list[int] = []  # batch sizes

    def token_spans(self, texts: Sequence[str]) -> list[ports.TokenSpans]:
        return [[m.span() for m in _WORD.finditer(text)] for text in texts]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self._serve()
        self.calls.append(len(texts))
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        vector = [0.0] * self.spec.dimension
        for word in _WORD.findall(text.lower()):
            digest = hashlib.sha256(word.encode()).digest()
            vector[int.from_bytes(digest[:4], "big") % self.spec.dimension] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]


@dataclass
class _Collection:
    spec: EmbeddingSpec
    chunks: dict[str, tuple[Chunk, list[float]]] = field(default_factory=dict)


class FakeStore(_Switch):
    """A ``VectorStore``: collections of chunks with their vectors; cosine similarity."""

    service = "chroma"

    def __init__(self) -> None:
        self.collections_: dict[str, _Collection] = {}

    def _get(self, collection: str) -> _Collection:
        self._serve()
        if collection not in self.collections_:
            raise NotFound(f"collection {collection!r} does not exist")
        return self.collections_[collection]

    def ensure_collection(self, collection: str, spec: EmbeddingSpec) -> None:
        self._serve()
        existing = self.collections_.setdefault(collection, _Collection(spec)).spec
        if existing != spec:
            raise Conflict(f"collection {collection!r} was indexed with {existing}, not {spec}")

    def collection_spec(self, collection: str) -> EmbeddingSpec | None:
        self._serve()
        found = self.collections_.get(collection)
        return found.spec if found else None

    def collections(self) -> dict[str, EmbeddingSpec]:
        self._serve()
        return {name: found.spec for name, found in self.collections_.items()}

    def chunk_ids(self, collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
        stored = self.collections_.get(collection)
        self._serve()
        found: dict[str, set[str]] = {d: set() for d in document_ids}
        for chunk_id, (chunk, _) in (stored.chunks if stored else {}).items():
            if chunk.document_id in found:
                found[chunk.document_id].add(chunk_id)
        return found

    def chunks(self, collection: str, document_id: str) -> list[tuple[str, Chunk]]:
        stored = self.collections_.get(collection)
        self._serve()
        pairs = [
            (chunk_id, chunk)
            for chunk_id, (chunk, _) in (stored.chunks if stored else {}).items()
            if chunk.document_id == document_id
        ]
        return sorted(pairs, key=lambda pair: pair[1].position)

    def chunks_by_id(self, collection: str, ids: Sequence[str]) -> dict[str, Chunk]:
        stored = self._get(collection).chunks
        return {i: stored[i][0] for i in ids if i in stored}

    def vectors(self, collection: str, document_ids: Sequence[str]) -> list[ports.StoredChunk]:
        stored = self.collections_.get(collection)
        self._serve()
        order = {document_id: i for i, document_id in enumerate(document_ids)}
        found = [
            (chunk_id, chunk, list(vector))
            for chunk_id, (chunk, vector) in (stored.chunks if stored else {}).items()
            if chunk.document_id in order
        ]
        return sorted(found, key=lambda s: (order[s[1].document_id], s[1].position))

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        stored = self._get(collection).chunks
        for chunk, vector in zip(chunks, vectors, strict=True):
            stored[chunk.id] = (chunk, list(vector))

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        stored = self._get(collection).chunks
        for chunk_id in ids:
            stored.pop(chunk_id, None)

    def delete_document(self, collection: str, document_id: str) -> None:
        self._serve()
        if collection in self.collections_:
            self.delete(collection, [i for i, _ in self.chunks(collection, document_id)])

    def query(
        self, collection: str, vector: Sequence[float], top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        stored = self._get(collection).chunks
        hits = []
        for chunk_id, (chunk, stored_vector) in stored.items():
            if _matches(chunk.metadata, where):
                cosine = sum(a * b for a, b in zip(vector, stored_vector, strict=True))
                hit = Hit(chunk_id, chunk.document_id, chunk.text, cosine, chunk.metadata, cosine)
                hits.append(hit)
        return sorted(hits, key=lambda hit: -hit.score)[:top_k]


class FakeKeywordIndex(_Switch):
    """A ``KeywordIndex``: a chunk's score is how many of the query's words it holds."""

    service = "keyword_index"

    def __init__(self) -> None:
        self.chunks: dict[str, dict[str, Chunk]] = {}
        self.indexed: dict[str, dict[str, str]] = {}  # what each chunk is searched by

    def upsert(
        self, collection: str, chunks: Sequence[Chunk], texts: Sequence[str] | None = None
    ) -> None:
        self._serve()
        indexed = [c.text for c in chunks] if texts is None else list(texts)
        self.chunks.setdefault(collection, {}).update({chunk.id: chunk for chunk in chunks})
        by_id = {chunk.id: text for chunk, text in zip(chunks, indexed, strict=True)}
        self.indexed.setdefault(collection, {}).update(by_id)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        self._serve()
        for chunk_id in ids:
            self.chunks.get(collection, {}).pop(chunk_id, None)
            self.indexed.get(collection, {}).pop(chunk_id, None)

    def delete_document(self, collection: str, document_id: str) -> None:
        stored = self.chunks.get(collection, {})
        self.delete(collection, [i for i, c in stored.items() if c.document_id == document_id])

    def chunk_ids(self, collection: str, document_ids: Sequence[str]) -> dict[str, set[str]]:
        self._serve()
        found: dict[str, set[str]] = {d: set() for d in document_ids}
        for chunk_id, chunk in self.chunks.get(collection, {}).items():
            if chunk.document_id in found:
                found[chunk.document_id].add(chunk_id)
        return found

    def search(
        self, collection: str, query: str, top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        self._serve()
        words = set(_WORD.findall(query.lower()))
        hits = []
        for chunk_id, chunk in self.chunks.get(collection, {}).items():
            indexed = self.indexed.get(collection, {}).get(chunk_id, chunk.text)
            score = len(words & set(_WORD.findall(indexed.lower())))
            if score and _matches(chunk.metadata, where):
                hits.append(Hit(chunk_id, chunk.document_id, chunk.text, score, chunk.metadata))
        return sorted(hits, key=lambda hit: -hit.score)[:top_k]


class FakeQueue(_Switch):
    """A ``JobQueue``: the jobs ``FakeCatalog.submit`` enqueued, all "queued" until a test
    runs them (``take()`` hands out the oldest) and says how they ended (``views``)."""

    service = "redis"

    def __init__(self) -> None:
        self.jobs: dict[str, IngestJob] = {}
        self.waiting: list[str] = []
        self.views: dict[str, JobView] = {}

    def enqueue(self, job: IngestJob) -> None:
        self._serve()
        self.jobs[job.id] = job
        self.waiting.append(job.id)
        self.views[job.id] = JobView(
            id=job.id,
            state="queued",
            done=0,
            total=0,
            documents=[f"{d.collection}/{d.id}" for d in job.documents],
            error=None,
            retries_left=0,
            enqueued_at=None,
            started_at=None,
            ended_at=None,
        )

    def take(self) -> IngestJob | None:
        return self.jobs[self.waiting.pop(0)] if self.waiting else None

    def status(self, job_id: str) -> JobView:
        self._serve()
        if job_id not in self.views:
            raise NotFound(f"job {job_id!r} does not exist (or has expired)")
        return self.views[job_id]

    def counts(self) -> dict[str, int]:
        self._serve()
        counts = dict.fromkeys(("queued", "started", "finished", "failed"), 0)
        for view in self.views.values():
            counts[view.state] += 1
        return counts


@dataclass
class FakeLease:
    renewed: int = 0

    def reacquire(self) -> bool:
        self.renewed += 1
        return True


class FakeCatalog(_Switch):
    """A ``Catalog``: records by (collection, id), oldest first; ``submit`` enqueues on
    ``queue`` with the records; locks are per-document thread locks, owned by ``owner``."""

    service = "redis"

    def __init__(self, queue: FakeQueue | None = None, owner: str = "api") -> None:
        self.queue = queue if queue is not None else FakeQueue()
        self.owner = owner
        self.records: dict[tuple[str, str], DocumentRecord] = {}
        self.held: dict[tuple[str, str], str] = {}  # lock -> owner
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._clock = 0.0

    def get(self, collection: str, document_id: str) -> DocumentRecord | None:
        self._serve()
        record = self.records.get((collection, document_id))
        return replace(record) if record else None

    def get_many(self, collection: str, document_ids: list[str]) -> dict[str, DocumentRecord]:
        self._serve()
        found = {i: self.records.get((collection, i)) for i in document_ids}
        return {i: replace(record) for i, record in found.items() if record}

    def put(self, records: list[DocumentRecord]) -> None:
        self._serve()
        for record in records:
            self._clock += 1.0
            record.updated_at = self._clock
            record.created_at = record.created_at or self._clock
            self.records[(record.collection, record.id)] = replace(record)

    def submit(self, records: list[DocumentRecord], job: IngestJob) -> None:
        self._serve()
        self.queue.enqueue(job)
        self.put(records)

    def update(self, collection: str, document_id: str, content_hash: str, **changes: Any) -> bool:
        self._serve()
        record = self.records.get((collection, document_id))
        if record is None or record.content_hash != content_hash:
            return False
        with self._guard:  # like the adapter's: every write moves ``updated_at``
            self._clock += 1.0
            self.records[(collection, document_id)] = replace(
                record, **changes, updated_at=self._clock
            )
        return True

    def delete(self, collection: str, document_id: str) -> None:
        self._serve()
        self.records.pop((collection, document_id), None)

    @contextmanager
    def lock(self, collection: str, document_id: str) -> Iterator[FakeLease]:
        self._serve()
        key = (collection, document_id)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            self.held[key] = self.owner
            try:
                yield FakeLease()
            finally:
                self.held.pop(key, None)

    def page(self, collection: str, offset: int, limit: int) -> tuple[list[DocumentRecord], int]:
        self._serve()
        mine = sorted(
            (r for (c, _), r in self.records.items() if c == collection),
            key=lambda r: (r.created_at, r.id),
        )
        return [replace(r) for r in mine[offset : offset + limit]], len(mine)

    def release_locks_of(self, owner: str) -> int:
        self._serve()
        mine = [key for key, holder in self.held.items() if holder == owner]
        for key in mine:
            del self.held[key]
        return len(mine)


class FakeFeedbackLog(_Switch):
    service = "redis"

    def __init__(self) -> None:
        self.records: list[FeedbackRecord] = []

    def append(self, record: FeedbackRecord) -> None:
        self._serve()
        self.records.append(record)

    def read(self, collection: str) -> list[FeedbackRecord]:
        self._serve()
        return [r for r in self.records if r.collection == collection]


class FakeReranker(_Switch):
    """Scores a text by how many of the query's words it holds."""

    service = "reranker"

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        self._serve()
        words = set(_WORD.findall(query.lower()))
        return [float(len(words & set(_WORD.findall(t.lower())))) for t in texts]


class ScriptedGenerator:
    """A ``Generator`` that answers with ``answers`` in turn (the last one again when they run
    out), or, with ``by_passage``, with the answer of the first key its prompt contains (in any
    order, as concurrent callers ask); an ``Exception`` as an answer is raised. Answers are
    streamed word by word; it keeps the prompts it was given."""

    def __init__(
        self,
        *answers: str | Exception,
        context_window: int = 4096,
        by_passage: Mapping[str, str | Exception] | None = None,
    ) -> None:
        self.answers = list(answers) or ["An answer [1]."]
        self.by_passage = dict(by_passage or {})
        self.prompts: list[Prompt] = []
        self.window = context_window
        self.down: str | None = None

    def _next(self, prompt: Prompt) -> str:
        if self.down is not None:
            raise Unavailable(f"generator is down: {self.down}", service="generator")
        self.prompts.append(prompt)
        if self.by_passage:
            found = [a for passage, a in self.by_passage.items() if passage in prompt.text]
            assert found, f"no answer scripted for the prompt {prompt.text!r}"
            answer = found[0]
        else:
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def context_window(self) -> int:
        return self.window

    async def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))

    async def generate(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> Generation:
        text = self._next(prompt)
        usage = Usage(len(_WORD.findall(prompt.text)), len(_WORD.findall(text)))
        return Generation(text, usage, "stop")

    async def stream(
        self, prompt: Prompt, *, max_tokens: int, temperature: float = 0.0
    ) -> AsyncGenerator[str | Generation, None]:
        text = self._next(prompt)
        for match in re.finditer(r"\S+\s*", text):
            yield match.group()
        yield Generation(text, Usage(len(_WORD.findall(prompt.text)), len(text.split())), "stop")

    async def check(self) -> None:
        if self.down is not None:
            raise Unavailable(f"generator is down: {self.down}", service="generator")


class WordTokenizer:
    """A Tokenizer where a word or a punctuation mark is one token (so " \u203a " is one);
    ``calls`` counts the batched calls, ``texts`` and ``chars`` what they tokenized."""

    def __init__(self, additive: bool = False) -> None:
        self.calls = self.texts = self.chars = 0
        self.additive = additive  # True: chunking may read pieces from one tokenization

    def token_spans(self, texts: Sequence[str]) -> list[ports.TokenSpans]:
        self.calls += 1
        self.texts += len(texts)
        self.chars += sum(len(t) for t in texts)
        return [[m.span() for m in re.finditer(r"\w+|[^\w\s]", t)] for t in texts]


class CharTokenizer:
    """A Tokenizer where every character, whitespace included, is a token: counts are not
    additive."""

    additive = False

    def token_spans(self, texts: Sequence[str]) -> list[ports.TokenSpans]:
        return [[(i, i + 1) for i in range(len(t))] for t in texts]


class JoiningTokenizer:
    """Pieces of up to 3 characters, and a blank line is a token of its own only when text
    follows it: a prefix and a chunk tokenized together count one more than apart."""

    additive = False

    def token_spans(self, texts: Sequence[str]) -> list[ports.TokenSpans]:
        return [[m.span() for m in re.finditer(r"\n\n(?=\S)|\S{1,3}", t)] for t in texts]


class FakeRequestCounter:
    """Counts per key, and the time each key is kept, as the rate limit's Redis would."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.ttls: dict[str, int] = {}

    def count(self, key: str, ttl_s: int) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        self.ttls[key] = ttl_s
        return self.counts[key]


def fake_services(settings: Settings | None = None, **parts: Any) -> Services:
    """A ``Services`` of fakes (no reranker, no rate-limit counter), any part replaced by
    ``parts`` (``catalog=SlowCatalog()``, say); the catalog submits to the queue given."""
    queue = parts.pop("queue", None) or FakeQueue()
    defaults: dict[str, Any] = {
        "settings": settings or Settings(),
        "store": FakeStore(),
        "keywords": FakeKeywordIndex(),
        "catalog": FakeCatalog(queue),
        "queue": queue,
        "feedback": FakeFeedbackLog(),
        "embedder": FakeEmbedder(),
        "generator": ScriptedGenerator(),
    }
    return Services(**(defaults | parts))


# Each fake is what its port says (checked by mypy).
_embedder: ports.Embedder = FakeEmbedder()
_store: ports.VectorStore = FakeStore()
_keywords: ports.KeywordIndex = FakeKeywordIndex()
_catalog: ports.Catalog = FakeCatalog()
_queue: ports.JobQueue = FakeQueue()
_feedback: ports.FeedbackLog = FakeFeedbackLog()
_reranker: ports.Reranker = FakeReranker()
_generator: ports.Generator = ScriptedGenerator()
_lease: ports.Lease = FakeLease()
_counter: ports.RequestCounter = FakeRequestCounter()
