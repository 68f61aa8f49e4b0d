"""Document ids and content hashes: the rules the server and the client (``docqa ingest``) share.

An id is 1 to ``MAX_LENGTH`` characters, ``/``-separated segments, none of them empty, ``.``
or ``..`` (so no leading, trailing or doubled ``/``), no control character (U+0000 to
U+001F, U+007F), and not ending in ``/chunks`` (``/documents/{id}/chunks`` names a
document's chunks). Ids are compared as they are: no case folding, no normalisation.

A file found under a folder is identified by its path relative to that folder, ``/``-
separated (``tutorial/middleware.md`` and ``advanced/middleware.md`` are two documents,
``a/b.md`` and ``a-b.md`` too); when several folders are given at once, each one's ids begin
with its label and a ``/`` (``docs/index.md``, ``blog/index.md``). The mapping is one-to-one.

A document's content hash (``GET /documents``' ``content_hash``) is hex sha256 of, for a text,
``json.dumps([text, title, metadata], sort_keys=True)`` in UTF-8; for a file, its bytes followed
by ``json.dumps([file name, metadata], sort_keys=True)`` in UTF-8. It never covers the id, so
``docqa ingest`` knows what the server would store unchanged before it sends anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePath
from typing import Any

MAX_LENGTH = 512
# As declared in OpenAPI (ECMA and Python regex alike); ``check`` says which part failed.
PATTERN = (
    r"^(?!/)(?!.*//)(?!.*/$)(?!(?:.*/)?\.\.?(?:/|$))(?!.*/chunks$)"
    rf"[^\x00-\x1f\x7f]{{1,{MAX_LENGTH}}}$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def problem(document_id: str) -> str | None:
    """What is wrong with ``document_id`` under the rule, or None when it is a valid id."""
    if not document_id:
        return "empty"
    if len(document_id) > MAX_LENGTH:
        return f"{len(document_id)} characters; at most {MAX_LENGTH}"
    if _CONTROL.search(document_id):
        return "holds a control character"
    segments = document_id.split("/")
    if "" in segments:
        return "has an empty segment (a leading, trailing or doubled '/')"
    if "." in segments or ".." in segments:
        return "has a '.' or '..' segment"
    if len(segments) > 1 and segments[-1] == "chunks":
        return "ends in '/chunks', which names a document's chunks"
    return None


def check(document_id: str) -> str:
    """``document_id`` when valid; ValueError saying why not otherwise."""
    reason = problem(document_id)
    if reason is not None:
        raise ValueError(f"invalid document id {document_id[:80]!r}: {reason}")
    return document_id


def from_path(relative: PurePath | str, label: str = "") -> str:
    """The id of a file at ``relative`` (a path relative to its folder) under ``label``."""
    parts = PurePath(relative).parts if isinstance(relative, PurePath) else relative.split("/")
    return "/".join(([label] if label else []) + list(parts))


def from_file_name(filename: str) -> str:
    """The id of an upload sent without one: its file name as sent, ``\\`` read as ``/`` and
    empty, ``.`` and ``..`` segments left out (a name locates nothing on the server)."""
    segments = [s for s in filename.replace("\\", "/").split("/") if s not in ("", ".", "..")]
    return check("/".join(segments))


def text_hash(text: str, title: str | None, metadata: dict[str, Any]) -> str:
    """The content hash of a text document (the rule in this module's docstring)."""
    return hashlib.sha256(json.dumps([text, title, metadata], sort_keys=True).encode()).hexdigest()


def file_hash(data: bytes, filename: str, metadata: dict[str, Any]) -> str:
    """The content hash of an uploaded file: its bytes, then its name and metadata."""
    raw = data + json.dumps([filename, metadata], sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()
