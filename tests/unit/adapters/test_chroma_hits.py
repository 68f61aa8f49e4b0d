"""How a Chroma query's records read as hits: scores, document ids, and a record answered
without its metadata left out (found by the chaos soak: it made ``/search`` answer 500)."""

from __future__ import annotations

from typing import Any, cast

from docqa.adapters._chroma import hits


def test_a_record_without_metadata_is_left_out_of_the_hits() -> None:
    found = {
        "ids": [["d:0:aa", "gone:0:bb", "d:1:cc"]],
        "documents": [["first", None, "second"]],
        "metadatas": [[{"document_id": "d", "position": 0}, None, {"document_id": "d"}]],
        "distances": [[0.1, 0.2, 0.4]],
    }
    read = hits(cast(Any, found))
    assert [(h.chunk_id, h.document_id, h.text) for h in read] == [
        ("d:0:aa", "d", "first"),
        ("d:1:cc", "d", "second"),
    ]
    assert [round(h.score, 6) for h in read] == [0.9, 0.6]
    assert read[0].metadata == {"position": 0}
