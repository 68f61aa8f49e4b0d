"""Local documents: files under folders, records of ``.jsonl`` and ``.parquet`` files.

Each document carries its id (``identity``), the content hash the server will compute
(``identity.file_hash`` / ``identity.text_hash``), and what to send. Files are read one at a time
and Parquet by record batches, so memory stays flat whatever the corpus size. Anything that cannot
be read is reported as a ``Failure`` (the walk "had errors"), never skipped silently.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from docqa.ingest import identity
from docqa.ingest.formats.extraction import EXTENSIONS

RECORD_FILES = (".jsonl", ".parquet")
PARQUET_BATCH_ROWS = 1000


@dataclass(frozen=True)
class Root:
    """A path given on the command line; ``label`` prefixes its ids ("" for a single path)."""

    path: Path
    label: str = ""

    @property
    def prefix(self) -> str:
        return f"{self.label}/" if self.label else ""


@dataclass
class Document:
    """A local document: a file to upload (``data`` bytes, ``filename``) or a text record."""

    id: str
    content_hash: str
    size: int
    data: bytes | None = None
    filename: str | None = None
    text: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_file(self) -> bool:
        return self.data is not None


@dataclass(frozen=True)
class Failure:
    where: str
    reason: str


def roots(paths: list[Path]) -> list[Root]:
    """Each path with its label: none for one path, else its base name (which must differ)."""
    if len(paths) == 1:
        return [Root(paths[0])]
    labelled = [Root(p, p.resolve().name) for p in paths]
    labels = [r.label for r in labelled]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"paths share the base names {repeated}: their ids would collide")
    for label in labels:
        identity.check(label)
    return labelled


def readable(name: str) -> bool:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix in EXTENSIONS or suffix in RECORD_FILES


def files(root: Root, pattern: str | None, failures: list[Failure]) -> Iterator[PurePosixPath]:
    """Paths relative to ``root`` of the files to read, sorted, recursively; hidden names
    (a leading '.') are left out; ``pattern`` (fnmatch) is matched against the relative path."""
    if root.path.is_file():
        yield PurePosixPath(root.path.name)
        return
    if not root.path.is_dir():
        failures.append(Failure(str(root.path), "no such file or folder"))
        return

    def walk_error(error: OSError) -> None:
        failures.append(Failure(str(error.filename), f"cannot read: {error.strerror}"))

    for folder, dirs, names in os.walk(root.path, onerror=walk_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = PurePosixPath(Path(folder).relative_to(root.path).as_posix())
        for name in sorted(names):
            relative = base / name if str(base) != "." else PurePosixPath(name)
            if name.startswith(".") or not readable(name):
                continue
            if pattern is None or fnmatch.fnmatch(str(relative), pattern):
                yield relative


def count(root: Root, relative: PurePosixPath) -> int:
    """How many documents a file holds (for the progress bar's total), read cheaply."""
    path = _path(root, relative)
    suffix = relative.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if suffix == ".jsonl":
            with path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
    except Exception:  # read() reports it, with its reason
        return 0
    return 1


def read(root: Root, relative: PurePosixPath) -> Iterator[Document | Failure]:
    """The documents in one file, or a ``Failure`` for each part that cannot be read."""
    path = _path(root, relative)
    suffix = relative.suffix.lower()
    try:
        if suffix == ".jsonl":
            yield from _jsonl(root, path)
        elif suffix == ".parquet":
            yield from _parquet(root, path)
        else:
            data = path.read_bytes()
            filename = str(relative)
            yield Document(
                id=identity.check(root.prefix + filename),
                content_hash=identity.file_hash(data, filename, {}),
                size=len(data),
                data=data,
                filename=filename,
            )
    except (OSError, ValueError, ImportError) as exc:
        yield Failure(str(path), str(exc))


def record(root: Root, row: dict[str, Any]) -> Document:
    """A JSONL line's or Parquet row's document: ``id`` and ``text``; ``title``, ``metadata``
    optional (metadata an object, or a JSON object in a string); ValueError saying why not."""
    unknown = sorted(set(row) - {"id", "text", "title", "metadata"})
    if unknown:
        raise ValueError(f"unknown fields {unknown}; expected id, text, title, metadata")
    document_id, text, title = row.get("id"), row.get("text"), row.get("title")
    if not isinstance(document_id, str):
        raise ValueError("'id' must be a string")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{document_id!r}: 'text' must be a string, not blank")
    if title is not None and not isinstance(title, str):
        raise ValueError(f"{document_id!r}: 'title' must be a string")
    metadata = row.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if isinstance(metadata, list):  # a Parquet map column reads as (key, value) pairs
        metadata = dict(metadata)
    if not isinstance(metadata, dict):
        raise ValueError(f"{document_id!r}: 'metadata' must be an object")
    return Document(
        id=identity.check(root.prefix + document_id),
        content_hash=identity.text_hash(text, title, metadata),
        size=len(text.encode()),
        text=text,
        title=title,
        metadata=metadata,
    )


def _jsonl(root: Root, path: Path) -> Iterator[Document | Failure]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
                yield record(root, row)
            except ValueError as exc:
                yield Failure(f"{path}:{number}", str(exc))


def _parquet(root: Root, path: Path) -> Iterator[Document | Failure]:
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path)
    names = set(table.schema_arrow.names)
    missing = sorted({"id", "text"} - names)
    if missing:
        raise ValueError(f"Parquet file without the columns {missing}")
    columns = [c for c in ("id", "text", "title", "metadata") if c in names]
    row_number = 0
    for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
        for row in batch.to_pylist():
            row_number += 1
            try:
                yield record(root, {k: v for k, v in row.items() if v is not None})
            except ValueError as exc:
                yield Failure(f"{path}:row {row_number}", str(exc))


def _path(root: Root, relative: PurePosixPath) -> Path:
    return root.path if root.path.is_file() else root.path / relative
