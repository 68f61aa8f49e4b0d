"""Markdown front matter -> metadata (pure).

A YAML mapping between a ``---`` line at the very start of a Markdown file and the next ``---``
(or ``...``) line is removed from the text and becomes metadata (``front_matter``): keys matching
``^[A-Za-z_][A-Za-z0-9_]{0,63}$`` (the API's metadata key pattern) with a str, int, float or
bool value (an int beyond 64 bits, a NaN or infinite float as a string); a date becomes its
ISO string, a list of such scalars one string joined by ``, `` (``keywords: [a, b]`` ->
``"a, b"``); empty values, mappings and lists of anything else are dropped, as are the
service's reserved keys (``headings.RESERVED_KEYS``) except ``title``, which becomes the
document's ``title``. At most ``MAX_FRONT_MATTER_KEYS`` keys, in file order.
A block that is not valid YAML, or not a mapping, is not front matter: it stays text.
"""

from __future__ import annotations

import datetime
import math
import re

from docqa.core.headings import RESERVED_KEYS
from docqa.core.models import Metadata, MetadataValue

MAX_FRONT_MATTER_KEYS = 32

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S | re.M)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_INT64 = 2**63


def front_matter(text: str) -> tuple[Metadata, str]:
    """The front matter's metadata (see the module rules) and the text after it; ``({}, text)``
    when ``text`` has none."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    import yaml

    try:
        loaded = yaml.safe_load(match.group(1)) if match.group(1).strip() else {}
    except yaml.YAMLError:
        return {}, text
    if not isinstance(loaded, dict):
        return {}, text
    metadata: Metadata = {}
    for key, value in loaded.items():
        scalar = _scalar(value)
        if len(metadata) >= MAX_FRONT_MATTER_KEYS:
            break
        if scalar is None or not isinstance(key, str) or not _KEY.match(key):
            continue
        if key == "title":
            if str(scalar).strip():
                metadata["title"] = " ".join(str(scalar).split())
        elif key not in RESERVED_KEYS:
            metadata[key] = scalar
    return metadata, text[match.end() :]


def _scalar(value: object) -> MetadataValue | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):  # one a 64-bit store cannot hold becomes its digits
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, float):  # .nan and .inf: JSON has no such number
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, datetime.date):  # a datetime too
        return value.isoformat()
    if isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
        items = [_scalar(item) for item in value]
        if None not in items:
            return ", ".join(str(item) for item in items)
    return None
