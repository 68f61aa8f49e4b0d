"""Keyword search (BM25) over the same chunks as Chroma, in SQLite FTS5.

Why FTS5: it ships inside Python's ``sqlite3`` (no new dependency, no server to run), ranks
with Okapi BM25 (``bm25()``), and updates in place: a replaced or deleted document's chunks
leave the index in the same transaction that adds the new ones. SQLite's WAL mode lets the API
read while workers write, from separate processes, each write whole or not at all. ``bm25s``
queries faster from memory but is a static index that must be rebuilt on every delete.

One pair of tables per collection, so term statistics (IDF) and results never mix
collections: ``<t>_chunks`` holds each chunk (its id unique, its document indexed) and the
FTS5 table ``<t>`` indexes its text as external content, kept in step by triggers. Tokens are
Unicode words, diacritics folded, Porter-stemmed (English).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from docqa.errors import Unavailable
from docqa.models import Chunk, Hit, Metadata

# Words a question is made of but that say nothing about which chunk answers it. Leaving them
# out of the query keeps BM25 from scoring every row that contains "the".
_STOPWORDS = """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves"""
STOPWORDS = frozenset(_STOPWORDS.split())
WORD = re.compile(r"\w+")
CHUNK_IN = 500  # ids per DELETE statement (SQLite's parameter limit is 32766 since 3.32)


def match_query(text: str) -> str | None:
    """An FTS5 query matching any of ``text``'s words (quoted, so no word is read as syntax);
    None when it has none worth searching for."""
    words = dict.fromkeys(word.lower() for word in WORD.findall(text))
    terms = [word for word in words if word not in STOPWORDS] or list(words)
    if not terms:
        return None
    return " OR ".join(f'"{term}"' for term in terms)


def table_of(collection: str) -> str:
    return "kw_" + hashlib.sha256(collection.encode()).hexdigest()[:20]


class SqliteKeywordIndex:
    """Implements ``ports.KeywordIndex``. One connection per thread; safe across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._known: set[str] = set()  # tables this process has seen exist

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            except (OSError, sqlite3.Error) as exc:
                raise Unavailable(
                    f"the keyword index at {self.path} cannot be opened: {exc}", service="keyword"
                ) from exc
            self._local.db = db
        return db

    def _exists(self, table: str) -> bool:
        if table not in self._known:
            found = self._db().execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            )
            if found.fetchone() is None:
                return False
            self._known.add(table)
        return True

    def _create(self, db: sqlite3.Connection, t: str) -> None:
        for statement in (
            f"""CREATE TABLE IF NOT EXISTS {t}_chunks (rowid INTEGER PRIMARY KEY,
                chunk_id TEXT NOT NULL UNIQUE, document_id TEXT NOT NULL, text TEXT NOT NULL,
                metadata TEXT NOT NULL)""",
            f"CREATE INDEX IF NOT EXISTS {t}_by_document ON {t}_chunks (document_id)",
            f"""CREATE VIRTUAL TABLE IF NOT EXISTS {t} USING fts5(text, content='{t}_chunks',
                content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')""",
            f"""CREATE TRIGGER IF NOT EXISTS {t}_added AFTER INSERT ON {t}_chunks BEGIN
                INSERT INTO {t} (rowid, text) VALUES (new.rowid, new.text); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {t}_removed AFTER DELETE ON {t}_chunks BEGIN
                INSERT INTO {t} ({t}, rowid, text) VALUES ('delete', old.rowid, old.text); END""",
        ):
            db.execute(statement)

    def upsert(self, collection: str, chunks: Sequence[Chunk]) -> None:
        """Add chunks not yet present (an id names its content, so a present id is current)."""
        if not chunks:
            return
        t = table_of(collection)
        db = self._db()
        with _transaction(db):
            if not self._exists(t):
                self._create(db, t)
            db.executemany(
                f"INSERT INTO {t}_chunks (chunk_id, document_id, text, metadata) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (chunk_id) DO NOTHING",
                [
                    (
                        chunk.id,
                        chunk.document_id,
                        chunk.text,
                        json.dumps({**chunk.metadata, "position": chunk.position}),
                    )
                    for chunk in chunks
                ],
            )

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        t = table_of(collection)
        if not ids or not self._exists(t):
            return
        db = self._db()
        with _transaction(db):
            for start in range(0, len(ids), CHUNK_IN):
                part = list(ids[start : start + CHUNK_IN])
                marks = ",".join("?" * len(part))
                db.execute(f"DELETE FROM {t}_chunks WHERE chunk_id IN ({marks})", part)

    def delete_document(self, collection: str, document_id: str) -> None:
        t = table_of(collection)
        if self._exists(t):
            with _transaction(self._db()) as db:
                db.execute(f"DELETE FROM {t}_chunks WHERE document_id = ?", (document_id,))

    def search(
        self, collection: str, query: str, top_k: int, where: Metadata | None = None
    ) -> list[Hit]:
        t = table_of(collection)
        match = match_query(query)
        if match is None or not self._exists(t):
            return []
        where = where or {}
        filters = " AND json_extract(c.metadata, ?) = ?" * len(where)
        values = [part for key, value in where.items() for part in (f'$."{key}"', value)]
        rows = self._db().execute(
            f"SELECT c.chunk_id, c.document_id, c.text, c.metadata, bm25({t}) AS rank "
            f"FROM {t} JOIN {t}_chunks AS c ON c.rowid = {t}.rowid "
            f"WHERE {t} MATCH ?{filters} ORDER BY rank LIMIT ?",
            (match, *values, top_k),
        )
        return [
            Hit(
                chunk_id=chunk_id,
                document_id=document_id,
                text=text,
                score=-rank,  # SQLite's bm25() is negated so that ascending order is best first
                metadata=cast(Metadata, json.loads(metadata)),
            )
            for chunk_id, document_id, text, metadata, rank in rows
        ]

    def count(self, collection: str) -> int:
        t = table_of(collection)
        if not self._exists(t):
            return 0
        return int(self._db().execute(f"SELECT count(*) FROM {t}_chunks").fetchone()[0])

    def check(self) -> None:
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise Unavailable(
                f"the keyword index is unavailable: {exc}", service="keyword"
            ) from exc


class _transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): a writer takes the lock up
    front, so two writers queue on ``timeout`` instead of failing on a lock upgrade."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
