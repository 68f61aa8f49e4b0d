"""What the API's bodies share: the constrained field types (a collection's name, a document's
id, flat metadata, text not blank, JSON Schema's integers) with the patterns they declare in
OpenAPI, and ``Strict``, the base of docqa's own request bodies (unknown fields refused; the
OpenAI-shaped chat bodies ignore them instead).

The bodies live by area: ``document_schemas`` (documents, reindex), ``answer_schemas`` (search,
ask, feedback), ``status_schemas`` (jobs, health), ``transfer_schemas`` (export, import) and
``chat_schemas`` (OpenAI's ``/v1``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from docqa.core.models import MetadataValue
from docqa.ingest import identity

COLLECTION_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$"
DOCUMENT_ID_PATTERN = identity.PATTERN
METADATA_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# Keys the service writes into each chunk's metadata itself.
RESERVED_KEYS = frozenset(
    {"document_id", "position", "source", "title", "page", "slide", "section", "heading_level"}
    | {"start", "end"}
)

CollectionName = Annotated[
    str, StringConstraints(pattern=COLLECTION_PATTERN), Field(examples=["default"])
]
# Checked by ``identity.check`` (whose message says what is wrong), declared as the pattern.
DocumentId = Annotated[
    str,
    AfterValidator(identity.check),
    Field(
        json_schema_extra={"pattern": DOCUMENT_ID_PATTERN, "maxLength": identity.MAX_LENGTH},
        description="A document id: '/'-separated segments, none empty, '.' or '..', no "
        "control character, at most 512 characters, not ending in '/chunks'",
    ),
]
MetadataKey = Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)]
# Text with something in it besides whitespace, as declared: one character that is not
# ``str.isspace`` (Python's re spells it \S; \x1c-\x1f for engines whose \s leaves them out).
NOT_BLANK_PATTERN = r"[^\s\x1c-\x1f]"


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty or only whitespace")
    return text


# Checked by ``_not_blank`` (whose message says what is wrong), declared as the pattern.
NotBlank = Annotated[
    str, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN})
]
# As declared in OpenAPI: keys outside the pattern are refused (``additionalProperties``).
_KEYS_ONLY = {"additionalProperties": False}
Filter = Annotated[dict[MetadataKey, MetadataValue], Field(json_schema_extra=_KEYS_ONLY)]


def check_metadata(metadata: dict[str, MetadataValue]) -> dict[str, MetadataValue]:
    reserved = sorted(RESERVED_KEYS & metadata.keys())
    if reserved:
        raise ValueError(f"metadata keys {reserved} are reserved by the service")
    return metadata


Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(max_length=32),  # before the validator: maxProperties (after it, a wrong maxLength)
    AfterValidator(check_metadata),
    Field(
        json_schema_extra={
            **_KEYS_ONLY,
            # (a lookahead, not {"not": {"enum": ...}}, which schemathesis cannot generate for)
            "propertyNames": {"pattern": f"^(?!({'|'.join(sorted(RESERVED_KEYS))})$)"},
            "description": f"Flat metadata; the service writes {sorted(RESERVED_KEYS)} itself",
        },
    ),
]


def _json_integer(value: object) -> object:
    if isinstance(value, bool | str):
        raise ValueError("Input should be an integer")
    return value


# As JSON Schema reads the declared types: an integer may be written 77.0, but true is not 1,
# and "5" is no number (pydantic's lax mode would take both).
Integer = Annotated[int, BeforeValidator(_json_integer)]
Number = Annotated[float, Field(strict=True)]
Flag = StrictBool


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
