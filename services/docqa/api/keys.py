"""API keys scoped to collections: who a request comes from (``Principal``) and what it may do.

Keys are kept only as SHA-256 digests and checked against every configured digest with
``hmac.compare_digest`` (no early exit), so neither the comparison nor which key matched shows
in the timing. A key's ``name``, never the key, is what logs and the rate limiter use.

A key is a JSON object ``{"key": "...", "name": "ci", "collections": ["a", "b"] or ["*"],
"access": "read" | "write" | "admin"}`` (in a JSON list), or in the compact form
``name:key:coll1,coll2:access`` (entries separated by ``;`` or white space; ``name:key`` and a
bare ``key`` mean every collection, write access). ``write`` includes ``read``; ``admin``
includes ``write`` on every collection (an admin key names no collections, or ``*``) and is
what the operators' routes (``/admin/...``: ``docqa check`` as a job) want.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docqa.api.schemas.fields import COLLECTION_PATTERN
from docqa.core.config import Settings
from docqa.core.errors import Forbidden, Unauthorized

log = logging.getLogger(__name__)

Access = Literal["read", "write", "admin"]
ALL = "*"
MIN_KEY_LENGTH = 16
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_COLLECTION = re.compile(COLLECTION_PATTERN)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's name and scope (``collections`` None: every collection)."""

    name: str
    collections: frozenset[str] | None
    access: Access

    def may(self, collection: str, access: Access) -> bool:
        if self.access == "admin":
            return True
        in_scope = self.collections is None or collection in self.collections
        return in_scope and (access == "read" or (access == "write" and self.access == "write"))

    def require(self, collection: str, access: Access) -> None:
        if not self.may(collection, access):
            log.info("key %r refused: %s on collection %r", self.name, access, collection)
            raise Forbidden(f"key {self.name!r} may not {access} collection {collection!r}")

    def require_access(self, access: Access) -> None:
        """Refuse early (before reading a body) a key that may not ``access`` anything."""
        if access == "write" and self.access == "read":
            raise Forbidden(f"key {self.name!r} is read-only")
        if access == "admin" and self.access != "admin":
            log.info("key %r refused: admin", self.name)
            raise Forbidden(
                f"key {self.name!r} is not an admin key (its access is {self.access!r})"
            )


# With no keys configured the service is open, to the operators' routes too.
OPEN = Principal(name="anonymous", collections=None, access="admin")


class KeySpec(BaseModel):
    """One configured key, as written in ``DOCQA_API_KEYS`` or the keys file."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=MIN_KEY_LENGTH, repr=False)
    name: str | None = Field(default=None, pattern=_NAME.pattern)
    collections: list[str] = Field(default=[ALL], min_length=1)
    access: Access = "write"


@dataclass(frozen=True)
class ApiKey:
    digest: bytes
    principal: Principal


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_keys(text: str, source: str = "DOCQA_API_KEYS") -> list[KeySpec]:
    """Key specs from JSON (a list of objects, or one object) or the compact form."""
    text = text.strip()
    if not text:
        return []
    try:
        if text[0] in "[{":
            found = json.loads(text)
            items = found if isinstance(found, list) else [found]
            return [KeySpec.model_validate(item) for item in items]
        return [_compact(entry) for entry in re.split(r"[;\s]+", text) if entry]
    except ValidationError as exc:  # never echo the input: it holds keys
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{source}: invalid API keys ({where})") from None
    except ValueError as exc:  # json's messages give a position, not the text
        raise ValueError(f"{source}: invalid API keys ({exc})") from None


def _compact(entry: str) -> KeySpec:
    parts = entry.split(":")
    if len(parts) == 1:
        return KeySpec(key=parts[0])
    if len(parts) > 4:
        raise ValueError("too many ':' in a compact key entry")
    name, key, *rest = parts
    fields: dict[str, Any] = {"name": name, "key": key}
    if rest:
        fields["collections"] = [c for c in rest[0].split(",") if c]
    if len(rest) > 1:
        fields["access"] = rest[1]
    return KeySpec.model_validate(fields)


def build_keys(specs: Sequence[KeySpec]) -> list[ApiKey]:
    keys: list[ApiKey] = []
    names: set[str] = set()
    digests: set[bytes] = set()
    for n, spec in enumerate(specs, start=1):
        name = spec.name or f"key{n}"
        if name in names:
            raise ValueError(f"API key name {name!r} is used twice")
        key_digest = digest(spec.key)
        if key_digest in digests:
            raise ValueError(f"API key {name!r} repeats another key")
        bad = [c for c in spec.collections if c != ALL and not _COLLECTION.match(c)]
        if bad:
            raise ValueError(f"API key {name!r}: invalid collection names {bad}")
        if spec.access == "admin" and ALL not in spec.collections:
            raise ValueError(f"API key {name!r}: an admin key has every collection: use ['*']")
        collections = None if ALL in spec.collections else frozenset(spec.collections)
        names.add(name)
        digests.add(key_digest)
        keys.append(ApiKey(key_digest, Principal(name, collections, spec.access)))
    return keys


def load_keys(settings: Settings) -> list[ApiKey]:
    """The configured keys (from the setting and the file together); [] when none are."""
    specs: list[KeySpec] = []
    if settings.api_keys is not None:
        specs += parse_keys(settings.api_keys.get_secret_value())
    if settings.api_keys_file is not None:
        path = settings.api_keys_file
        specs += parse_keys(path.read_text(), source=str(path))
        if not specs:
            raise ValueError(f"{path}: no API keys in the keys file")
    return build_keys(specs)


class Keyring:
    """Turns an ``Authorization`` header into a ``Principal``."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys = tuple(keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def identify(self, authorization: str | None) -> Principal:
        if not self._keys:
            return OPEN
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send a valid API key as 'Authorization: Bearer <key>'")
        presented = digest(token)
        found: Principal | None = None
        for key in self._keys:  # every key, every time: no early exit
            if hmac.compare_digest(presented, key.digest):
                found = key.principal
        if found is None:
            raise Unauthorized("the API key is not valid")
        return found
