"""The API process never imports the model: no torch, no sentence-transformers, no extraction
libraries. The API image installs none of them, so an eager import there would crash it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FORBIDDEN = ("torch", "sentence_transformers", "transformers", "pypdf", "bs4")

PROGRAM = f"""
import json, pkgutil, sys, importlib
import docqa.api.app
import docqa.api.routes
docqa.api.app.create_app()
for module in pkgutil.iter_modules(docqa.api.routes.__path__):
    importlib.import_module("docqa.api.routes." + module.name)
forbidden = {FORBIDDEN!r}
print(json.dumps(sorted(
    name for name in sys.modules if name.split(".")[0] in forbidden
)))
"""


def test_the_api_imports_no_model_or_extraction_code() -> None:
    env = {**os.environ, "DOCQA_EMBEDDER": "tei"}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert imported == [], f"the API imported {imported}"
