"""API keys: parsing, constant-time matching, scopes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from docqa.api import keys as keys_module
from docqa.api.keys import OPEN, Keyring, Principal, build_keys, parse_keys
from docqa.core.config import Settings
from docqa.core.errors import Forbidden, Unauthorized

ADMIN = "admin-key-0123456789abcdef"
READER = "reader-key-0123456789abcdef"
KEYS: list[dict[str, Any]] = [
    {"key": ADMIN, "name": "admin"},
    {"key": READER, "name": "reader", "collections": ["a", "b"], "access": "read"},
]


def keyring(specs: list[dict[str, Any]] = KEYS) -> Keyring:
    return Keyring(build_keys(parse_keys(json.dumps(specs))))


def test_json_keys_with_defaults() -> None:
    admin, reader = build_keys(parse_keys(json.dumps(KEYS)))
    assert admin.principal == Principal("admin", None, "write")
    assert reader.principal == Principal("reader", frozenset({"a", "b"}), "read")
    single = parse_keys(json.dumps({"key": ADMIN}))
    assert [s.name for s in single] == [None]


def test_compact_keys() -> None:
    keys = build_keys(parse_keys(f"{ADMIN}; ci:{READER}:a,b:read\nops:{'x' * 20}"))
    assert [k.principal for k in keys] == [
        Principal("key1", None, "write"),
        Principal("ci", frozenset({"a", "b"}), "read"),
        Principal("ops", None, "write"),
    ]
    assert parse_keys("  ") == []


def test_only_digests_are_kept() -> None:
    keys = build_keys(parse_keys(json.dumps(KEYS)))
    assert keys[0].digest == keys_module.digest(ADMIN) and len(keys[0].digest) == 32
    assert ADMIN not in repr(keys) and ADMIN not in repr(parse_keys(json.dumps(KEYS)))


@pytest.mark.parametrize(
    "text",
    [
        json.dumps([{"key": "short"}]),
        json.dumps([{"key": ADMIN, "access": "owner"}]),
        json.dumps([{"key": ADMIN, "access": "admin", "collections": ["a"]}]),
        f"ops:{ADMIN}:a,b:admin",
        json.dumps([{"key": ADMIN, "collections": ["no spaces"]}]),
        json.dumps([{"key": ADMIN, "collections": []}]),
        json.dumps([{"key": ADMIN, "extra": 1}]),
        json.dumps([{"key": ADMIN, "name": "x"}, {"key": READER, "name": "x"}]),
        json.dumps([{"key": ADMIN}, {"key": ADMIN}]),
        f"a:{ADMIN}:c:write:more",
        f"a:{ADMIN}:c:owner",
        "[not json",
    ],
)
def test_bad_keys_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        build_keys(parse_keys(text))
    assert ADMIN not in str(raised.value) and "short" not in str(raised.value)


def test_keys_from_the_setting_and_a_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([KEYS[1]]))
    settings = Settings(api_keys=json.dumps([KEYS[0]]), api_keys_file=path)
    assert [k.principal.name for k in keys_module.load_keys(settings)] == ["admin", "reader"]
    assert keys_module.load_keys(Settings()) == []
    path.write_text("")
    with pytest.raises(ValueError, match="no API keys"):
        keys_module.load_keys(Settings(api_keys_file=path))


def test_identify() -> None:
    ring = keyring()
    assert ring.identify(f"Bearer {READER}").name == "reader"
    assert ring.identify(f"bearer  {ADMIN} ").name == "admin"
    for header in (None, "", "Bearer", f"Basic {ADMIN}", "Bearer wrong-key-0123456789", ADMIN):
        with pytest.raises(Unauthorized):
            ring.identify(header)
    assert Keyring([]).identify(None) is OPEN and not Keyring([]).enabled


def test_every_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = keys_module.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", counting)
    ring = keyring()
    ring.identify(f"Bearer {ADMIN}")  # the first key matches: the others are compared still
    assert len(calls) == len(KEYS)
    assert all(a == keys_module.digest(ADMIN) and len(b) == 32 for a, b in calls)
    calls.clear()
    with pytest.raises(Unauthorized):
        ring.identify("Bearer nope")
    assert len(calls) == len(KEYS)


def test_scopes() -> None:
    reader = Principal("r", frozenset({"a"}), "read")
    writer = Principal("w", frozenset({"a"}), "write")
    assert reader.may("a", "read") and not reader.may("a", "write")
    assert not reader.may("b", "read")
    assert writer.may("a", "write") and writer.may("a", "read") and not writer.may("b", "read")
    assert OPEN.may("anything", "write")
    with pytest.raises(Forbidden, match="may not write collection 'a'"):
        reader.require("a", "write")
    with pytest.raises(Forbidden):
        reader.require_access("write")
    writer.require_access("write")


def test_an_admin_key_writes_every_collection_and_may_use_the_admin_routes() -> None:
    specs = [{"key": ADMIN, "name": "ops", "access": "admin"}, *KEYS[1:]]
    ops, reader = build_keys(parse_keys(json.dumps(specs)))
    assert ops.principal == Principal("ops", None, "admin")
    (compact,) = build_keys(parse_keys(f"ops:{ADMIN}:*:admin"))
    assert compact.principal == Principal("ops", None, "admin")
    admin = ops.principal
    assert admin.may("anything", "write") and admin.may("anything", "read")
    admin.require_access("write")
    admin.require_access("admin")
    writer = Principal("w", None, "write")
    for caller in (writer, reader.principal):
        with pytest.raises(Forbidden, match="is not an admin key"):
            caller.require_access("admin")
    assert not writer.may("a", "admin")


def test_with_no_keys_the_caller_may_use_the_admin_routes() -> None:
    caller = Keyring([]).identify(None)
    caller.require_access("admin")  # raises Forbidden if the open service were not open
    assert caller.access == "admin" and caller.may("anything", "write")
