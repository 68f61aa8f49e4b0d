"""Shared test setup: model code runs offline, always; TEI's contract for the TEI tests."""

import os

import pytest

from support.tei_contract import Contract

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def contract() -> Contract:
    """TEI 1.9.3's OpenAPI document as a validator (``tests/support/tei_contract.py``)."""
    return Contract.load()
