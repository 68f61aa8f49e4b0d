"""Fetching the served model's ``tokenizer.json`` at start (``DOCQA_TEI_TOKENIZER_REPO``,
``docqa.adapters.tokenizer_fetch``): the download function is passed in (or patched where the
wiring calls it), so no test touches the network. A fetched file is then checked against
``/tokenize`` like a configured one; a failed fetch means ``/tokenize``, logged and counted."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.tei_stub.mock import FakeTei
from bench.tei_stub.tokenizer_file import TokenizerFile
from prometheus_client import REGISTRY

from docqa import wiring
from docqa.adapters.local_embedder import default_model_path
from docqa.adapters.tei import TeiEmbedder
from docqa.adapters.tokenizer_fetch import fetch_tokenizer
from docqa.core.config import Settings
from docqa.core.metrics import tokenizer_fallback
from support.tei_contract import Contract

MINILM = default_model_path()


class Hub:
    """A stand-in for ``hf_hub_download``: serves ``files`` (repo -> local file) into ``cache``,
    records every call, and raises ``refuse`` when given."""

    def __init__(self, cache: Path, files: dict[str, Path], refuse: Exception | None = None):
        self.cache, self.files, self.refuse = cache, files, refuse
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        if self.refuse is not None:
            raise self.refuse
        source = self.files[kwargs["repo_id"]]  # KeyError: an unknown repository
        target = self.cache / kwargs["repo_id"].replace("/", "--") / kwargs["filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / kwargs["filename"], target)
        return str(target)


def fallbacks() -> float:
    found = REGISTRY.get_sample_value("docqa_tokenizer_fallbacks_total", {"reason": "unfetched"})
    return found or 0.0


def test_the_repository_s_tokenizer_json_is_fetched(tmp_path: Path) -> None:
    hub = Hub(tmp_path, {"thenlper/gte-large": MINILM})
    found = fetch_tokenizer("thenlper/gte-large", download=hub)
    assert hub.calls == [
        {"repo_id": "thenlper/gte-large", "filename": "tokenizer.json", "revision": None}
    ]
    assert found == tmp_path / "thenlper--gte-large" / "tokenizer.json"
    assert found.read_bytes() == (MINILM / "tokenizer.json").read_bytes()


def test_a_revision_is_passed_on(tmp_path: Path) -> None:
    hub = Hub(tmp_path, {"org/model": MINILM})
    fetch_tokenizer("org/model", revision="v1.0", download=hub)
    assert hub.calls[0]["revision"] == "v1.0"


@pytest.mark.parametrize(
    "refuse",
    [
        ConnectionError("Failed to resolve 'huggingface.co'"),
        OSError("We couldn't connect to 'https://huggingface.co' to download tokenizer.json"),
        PermissionError("401 Client Error: a gated repository"),
    ],
    ids=["no-dns", "offline-and-not-cached", "refused-token"],
)
def test_a_failed_fetch_is_logged_counted_and_gives_none(
    tmp_path: Path, refuse: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    reported: list[tuple[str, str]] = []
    caplog.set_level(logging.WARNING, logger="docqa.adapters.tokenizer_fetch")
    hub = Hub(tmp_path, {}, refuse=refuse)
    found = fetch_tokenizer("org/model", download=hub, on_fallback=lambda *a: reported.append(a))
    assert found is None
    [(reason, detail)] = reported
    assert reason == "unfetched"
    assert "'org/model'" in detail and type(refuse).__name__ in detail and str(refuse) in detail
    assert "/tokenize" in caplog.text and str(refuse) in caplog.text


def test_an_unknown_repository_falls_back(tmp_path: Path) -> None:
    reported: list[tuple[str, str]] = []
    found = fetch_tokenizer(
        "org/other", download=Hub(tmp_path, {}), on_fallback=lambda *a: reported.append(a)
    )
    assert found is None and [r for r, _ in reported] == ["unfetched"]


def test_a_download_that_gives_no_file_falls_back(tmp_path: Path) -> None:
    reported: list[tuple[str, str]] = []
    found = fetch_tokenizer(
        "org/model",
        download=lambda **_: str(tmp_path / "missing.json"),
        on_fallback=lambda *a: reported.append(a),
    )
    assert found is None
    assert "missing.json" in reported[0][1]


def test_the_fallback_metric_counts_a_failed_fetch(tmp_path: Path) -> None:
    before = fallbacks()
    fetch_tokenizer(
        "org/model", download=Hub(tmp_path, {}, OSError("offline")), on_fallback=tokenizer_fallback
    )
    assert fallbacks() == before + 1


def test_a_fetched_tokenizer_is_checked_then_used_in_process(
    tmp_path: Path, contract: Contract
) -> None:
    tei = FakeTei(contract, tokenizer=TokenizerFile(MINILM))  # a TEI serving MiniLM
    path = fetch_tokenizer(
        "sentence-transformers/all-MiniLM-L6-v2",
        download=Hub(tmp_path, {"sentence-transformers/all-MiniLM-L6-v2": MINILM}),
    )
    assert path is not None
    embedder = TeiEmbedder(tei.client, sleep=lambda _: None, tokenizer_path=path)
    assert embedder.tokenizer == "in-process"
    assert len(tei.batches("/tokenize")) == 1  # the check on the sample, once


def recording(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    made: dict[str, Any] = {}

    class Recording:
        def __init__(self, client: httpx.Client, **kwargs: Any) -> None:
            made.update(kwargs)

    monkeypatch.setattr("docqa.adapters.tei.TeiEmbedder", Recording)
    return made


def test_wiring_fetches_the_configured_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub(tmp_path, {"thenlper/gte-large": MINILM})
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub)
    made = recording(monkeypatch)
    wiring._embedder(Settings(embedder="tei", tei_tokenizer_repo="thenlper/gte-large"))
    assert made["tokenizer_path"] == tmp_path / "thenlper--gte-large" / "tokenizer.json"
    assert [c["repo_id"] for c in hub.calls] == ["thenlper/gte-large"]


def test_wiring_prefers_a_configured_path_and_fetches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub(tmp_path, {"thenlper/gte-large": MINILM})
    monkeypatch.setattr("huggingface_hub.hf_hub_download", hub)
    made = recording(monkeypatch)
    settings = Settings(
        embedder="tei", tei_tokenizer_path=MINILM, tei_tokenizer_repo="thenlper/gte-large"
    )
    wiring._embedder(settings)
    assert made["tokenizer_path"] == MINILM and hub.calls == []
    wiring._embedder(Settings(embedder="tei"))
    assert made["tokenizer_path"] is None and hub.calls == []


def test_wiring_falls_back_to_tokenize_when_the_fetch_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("huggingface_hub.hf_hub_download", Hub(tmp_path, {}, OSError("offline")))
    made = recording(monkeypatch)
    before = fallbacks()
    wiring._embedder(Settings(embedder="tei", tei_tokenizer_repo="thenlper/gte-large"))
    assert made["tokenizer_path"] is None
    assert fallbacks() == before + 1
