"""The chaos soak's parts that need no stack: version phrases are unique single words, the
injector deals every kind of fault in each round in an order fixed by its seed, and recovery
figures are per kind (count, p50, max, unrecovered left out of the times)."""

from __future__ import annotations

from typing import Any, cast

from bench.chaos_faults import KINDS, Fault, Injector, recovery_figures
from bench.chaos_load import phrase

from docqa.search.terms import document_terms


def test_each_version_has_its_own_phrase_that_indexing_keeps_whole() -> None:
    phrases = {phrase(d, v) for d in range(1, 300) for v in range(1, 30)}
    assert len(phrases) == 299 * 29
    assert all(p.isalpha() for p in phrases)
    for word in (phrase(12, 3), phrase(7, 10), phrase(1000, 1)):
        assert document_terms(f"Some text holding {word} in it.").split().count(word) == 1


def injector(seed: int) -> Injector:
    return Injector(cast(Any, None), cast(Any, None), seed)


def test_every_kind_comes_round_once_per_round_in_a_seeded_order() -> None:
    one, again, other = injector(3), injector(3), injector(4)
    first = [one.next_kind() for _ in range(2 * len(KINDS))]
    assert sorted(first[: len(KINDS)]) == sorted(KINDS) == sorted(first[len(KINDS) :])
    assert first == [again.next_kind() for _ in range(2 * len(KINDS))]
    assert first != [other.next_kind() for _ in range(2 * len(KINDS))]
    gaps = [one.gap() for _ in range(50)]
    assert all(one.gap_s[0] <= g <= one.gap_s[1] for g in gaps)


def test_recovery_figures_per_kind() -> None:
    faults = [
        Fault("kill:worker", 0, 1, 3.0),
        Fault("kill:worker", 0, 1, 1.0),
        Fault("kill:worker", 0, 1, 2.0),
        Fault("stop:api", 0, 1, None),
    ]
    figures = recovery_figures(faults)
    assert figures["kill:worker"] == {"faults": 3, "recovered": 3, "p50_s": 2.0, "max_s": 3.0}
    assert figures["stop:api"] == {"faults": 1, "recovered": 0, "p50_s": None, "max_s": None}
    assert figures["embedder:429"]["faults"] == 0
