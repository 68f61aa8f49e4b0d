"""The chaos soak's parts that need no stack: version phrases are unique single words, each
lane deals its kinds of fault in shuffled rounds over the soak in an order fixed by its seed
(a long soak: 120 of each kind), a fault's recovery is the first probe written after it and
found, recovery figures are per kind (count, p50, max, unrecovered left out); the producer
reads the backlog from the API's metrics and sends a deletion cut off again."""

from __future__ import annotations

import httpx
from bench.chaos_faults import KINDS, RECOVERY_LIMIT_S, Fault, recovery_figures
from bench.chaos_lanes import HOLD_S, JITTER, LANES, per_kind, recover, schedule
from bench.chaos_load import BACKLOG_BOUND, Entry, Ledger, Producer, backlog, phrase

from docqa.search.terms import document_terms


def test_each_version_has_its_own_phrase_that_indexing_keeps_whole() -> None:
    phrases = {phrase(d, v) for d in range(1, 300) for v in range(1, 30)}
    assert len(phrases) == 299 * 29
    assert all(p.isalpha() for p in phrases)
    for word in (phrase(12, 3), phrase(7, 10), phrase(1000, 1)):
        assert document_terms(f"Some text holding {word} in it.").split().count(word) == 1


def test_each_lane_deals_its_kinds_in_seeded_shuffled_rounds_over_the_soak() -> None:
    kinds = LANES["embedder"]
    one = schedule("embedder", kinds, 4, 120.0, seed=3)
    assert [p.kind for p in one] != [p.kind for p in schedule("embedder", kinds, 4, 120.0, 4)]
    assert one == schedule("embedder", kinds, 4, 120.0, seed=3)  # reproducible
    for start in range(0, 12, 3):  # every kind once in each round
        assert sorted(p.kind for p in one[start : start + 3]) == sorted(kinds)
    slot = 120.0 / 12
    for i, planned in enumerate(one):  # in its own slot's first part, in order
        assert i * slot <= planned.at_s <= (i + JITTER) * slot
        assert HOLD_S[0] <= planned.hold_s <= HOLD_S[1]


def test_lanes_cover_every_kind_once_and_each_its_own_target() -> None:
    assert sorted(k for kinds in LANES.values() for k in kinds) == sorted(KINDS)
    for lane, kinds in LANES.items():
        assert {k.split(":")[0 if lane == "embedder" else 1] for k in kinds} == {lane}


def test_a_long_soak_plans_over_a_hundred_of_each_kind_and_a_short_one_every_kind() -> None:
    assert per_kind(60, 2.0) == 120
    assert per_kind(2, 0.5) == 1
    assert per_kind(0.1, 0.5) == 1
    plans = {lane: schedule(lane, kinds, 120, 3600.0, 7) for lane, kinds in LANES.items()}
    assert all(plan[-1].at_s < 3600 for plan in plans.values())
    dealt = [p.kind for plan in plans.values() for p in plan]
    assert {k: dealt.count(k) for k in KINDS} == dict.fromkeys(KINDS, 120)
    # two lanes' seeds differ: their jitters are not the same draws
    assert [p.hold_s for p in plans["redis"]] != [p.hold_s for p in plans["chroma"]]


def test_recovery_is_the_first_probe_written_after_the_fault_ended_and_found() -> None:
    faults = [
        Fault("kill:worker", started=10.0, ended=10.0),
        Fault("stop:redis", started=12.0, ended=16.0),  # overlapping the kill
        Fault("embedder:503", started=100.0, ended=104.0),  # no probe written after it
        Fault("kill:api", started=2.0, ended=2.0),
    ]
    cycles = [(1.0, 3.0), (9.0, 11.0), (11.5, 15.0), (16.5, 19.0), (30.0, 31.0)]
    recover(faults, cycles)
    # the cycle written at 9 s was before the kill; 11.5 s's, after it, was found at 15 s
    assert [f.recovered_s for f in faults] == [5.0, 7.0, None, 9.0]
    recover(faults, [(17.0, 17.0 + RECOVERY_LIMIT_S)])
    assert faults[0].recovered_s is None  # found, but past the limit


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


def test_the_backlog_is_the_jobs_queued_or_scheduled_in_the_apis_metrics() -> None:
    metrics = "\n".join(
        (
            "# HELP docqa_ingest_jobs Ingest jobs in each RQ state (at scrape time)",
            "# TYPE docqa_ingest_jobs gauge",
            'docqa_ingest_jobs{state="queued"} 17.0',
            'docqa_ingest_jobs{state="started"} 1.0',
            'docqa_ingest_jobs{state="finished"} 900.0',
            'docqa_ingest_jobs{state="scheduled"} 4.0',
            "docqa_ingest_queue_depth 17.0",
        )
    )
    assert backlog(metrics) == 21 >= BACKLOG_BOUND
    assert backlog('docqa_ingest_jobs{state="queued"} 3.0') == 3
    assert backlog("docqa_ingest_queue_depth 17.0") is None  # says nothing of the states


def test_a_deletion_answered_503_is_sent_again_before_anything_else() -> None:
    answers = iter((503, 503, 204))
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(next(answers))

    ledger = Ledger()
    ledger.entries[1] = Entry()
    ledger.entries[1].acknowledged(2, False)
    with httpx.Client(base_url="http://docqa", transport=httpx.MockTransport(answer)) as client:
        producer = Producer(client, "c", seed=1, ledger=ledger)
        producer.stop.set()  # no waits after the 503s
        producer.delete(1)
        assert producer.cut_off == [1] and ledger.entries[1].states == {(2, False), (2, True)}
        producer.step()  # the deletion again, not a post
        producer.finish()
    assert sent == ["DELETE /documents/doc-1"] * 3
    assert producer.cut_off == [] and ledger.entries[1].deleted and ledger.entries[1].certain
