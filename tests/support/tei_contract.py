"""TEI 1.9.3's own OpenAPI document (tests/contracts/tei-openapi.json) as a validator, so fakes
and stubs of TEI cannot drift from the real server's shapes.

``Contract.load().check("EmbedResponse", body)`` raises ``jsonschema.ValidationError`` unless
``body`` matches ``#/components/schemas/EmbedResponse``; it returns ``body``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

OPENAPI = Path(__file__).parents[1] / "contracts" / "tei-openapi.json"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` in JSON Schema terms: ``type: [T, "null"]``."""
    if isinstance(node, dict):
        node = {key: _nullable(value) for key, value in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(value) for value in node]
    return node


class Contract:
    """Validates JSON bodies against ``#/components/schemas/<name>`` of TEI's OpenAPI."""

    def __init__(self, document: dict[str, Any]) -> None:
        resource = Resource.from_contents(_nullable(document), default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource("urn:tei", resource)

    @classmethod
    def load(cls) -> Contract:
        return cls(json.loads(OPENAPI.read_text()))

    def check(self, schema: str, body: Any) -> Any:
        ref = {"$ref": f"urn:tei#/components/schemas/{schema}"}
        Draft202012Validator(ref, registry=self._registry).validate(body)
        return body
