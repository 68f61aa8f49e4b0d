"""schemathesis hooks for ``test_schema.py`` (loaded by its ``schemathesis.toml``).

Answers are kept short on a CPU: ``/ask`` and ``/v1/chat/completions`` cases ask for at most 8
tokens. A count the schema allows stays one it allows (absent becomes 8, a larger one 8), and
one it does not (0, 7.5, true, over the maximum) is left as it is, so every case keeps the
validity it was generated with.

Checks (``POST /admin/checks``) are queued for the stack's one worker, which the other tests
share: a case that names no collection, or a valid one, checks (and may repair) ``CHECKED``, a
collection no test writes, so that each is quick and touches no other test's documents. An
invalid name is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis

from docqa.api.schemas.fields import COLLECTION_PATTERN

MAX_TOKENS = 8
ALLOWED = range(1, 32768 + 1)  # max_tokens (and max_completion_tokens): ge=1, le=32768
CHECKED = "schemathesis-checks"
COUNTS = {"/ask": ("max_tokens",), "/v1/chat/completions": ("max_tokens", "max_completion_tokens")}


@schemathesis.hook
def before_call(ctx: Any, case: schemathesis.Case, **kwargs: Any) -> None:
    if case.operation.path == "/admin/checks" and isinstance(case.body, dict):
        named = case.body.get("collection")
        if named is None or (isinstance(named, str) and re.match(COLLECTION_PATTERN, named)):
            case.body["collection"] = CHECKED
        return
    names = COUNTS.get(case.operation.path, ())
    if not names or not isinstance(case.body, dict):
        return
    for name in names:
        asked = case.body.get(name, MAX_TOKENS)  # absent: the default (256) is allowed too
        # JSON Schema's integers include 77.0; true is not one.
        if isinstance(asked, int | float) and not isinstance(asked, bool) and asked in ALLOWED:
            case.body[name] = min(int(asked), MAX_TOKENS)
