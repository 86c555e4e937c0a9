"""The workers benchmark counts what it says: a call is answered, handed to the fallback or failed by the
stated rules, the fallback's calls are found in Asterisk's log by their Call-ID, and "calls per machine"
is the highest level within the target."""

from __future__ import annotations

from bench.workers import (
    DEAD_AIR_S,
    CallOutcome,
    calls_per_machine,
    fallback_call_ids,
    summarize,
    upper_95,
)

# As the dialplan (config/asterisk/extensions.conf) writes them into Asterisk's log.
LOG = """\
[Dec  4 15:30:01] WARNING[123][C-00000001] Ext. 1080:4 in hotline: hotline-fallback: application hotline \
unavailable STASISSTATUS=FAILED channel=1733.7 call-id=abc-1
[Dec  4 15:30:02] NOTICE[123][C-00000001] Ext. 1080:7 in hotline: hotline-fallback: operator \
DIALSTATUS=CHANUNAVAIL channel=1733.7
[Dec  4 15:30:03] WARNING[124][C-00000002] Ext. 1080:14 in hotline: hotline-fallback: application \
hotline did not serve the call channel=1733.9 call-id=def-2
[Dec  4 15:30:04] NOTICE[125][C-00000003] Ext. 1080:1 in hotline: hotline call
"""


def _call(**kw) -> CallOutcome:
    base = dict(connected=True, sip_call_id="x", latency_s=0.5, correct=True, fallback=False, dead_air_s=None)
    return CallOutcome(**{**base, **kw})


def test_fallback_calls_are_found_by_call_id_in_the_asterisk_log():
    assert fallback_call_ids(LOG) == {"abc-1", "def-2"}
    assert fallback_call_ids("") == set()


def test_a_call_is_answered_handed_to_the_fallback_or_failed():
    assert _call().kind == "answered"
    assert _call(fallback=True, dead_air_s=1.6).kind == "fallback"
    # the apology came, but after dead air: failed
    assert _call(fallback=True, dead_air_s=DEAD_AIR_S).kind == "failed"
    assert _call(fallback=True, dead_air_s=None).kind == "failed"  # the apology never heard
    assert _call(latency_s=None).kind == "failed"  # hung up or silent: no answer, no fallback
    assert _call(connected=False).kind == "failed"


def test_summary_keeps_the_fallback_out_of_the_latency_and_counts_failures():
    calls = [_call(latency_s=0.4 + 0.1 * i) for i in range(8)]
    calls += [_call(fallback=True, dead_air_s=1.8, latency_s=9.0), _call(latency_s=None, error="timeout")]
    s = summarize(calls)
    assert (s["calls"], s["answered"], s["handed_to_fallback"], s["failed"]) == (10, 8, 1, 1)
    assert s["failed_share"] == 0.1
    assert s["latency_p95_s"] == 1.1  # the fallback caller's 9 s is not an answer
    assert s["fallback_dead_air_max_s"] == 1.8
    assert s["errors"] == ["timeout"]


def test_the_upper_bound_says_what_a_few_hundred_calls_can_claim():
    assert upper_95(0, 0) is None
    assert 0.036 < upper_95(0, 100) < 0.038  # 0 of 100 failed: below 3.7 %, not below 0.5 %
    assert upper_95(0, 1000) < 0.005
    assert upper_95(5, 100) > 0.05


def test_calls_per_machine_is_the_highest_level_within_the_target():
    def row(p95, failed=0, correct=1.0):
        return {"latency_p95_s": p95, "failed": failed, "answered_correctly_share": correct}

    assert calls_per_machine({"5": row(0.6), "10": row(0.79), "20": row(2.1)}) == 10
    assert calls_per_machine({"20": row(0.7), "5": row(0.5), "10": row(0.9)}) == 5  # by level, not order
    assert calls_per_machine({"5": row(0.6), "10": row(0.7, failed=1), "20": row(0.7)}) == 5
    assert calls_per_machine({"5": row(0.6, correct=0.8), "10": row(0.7)}) == 0
    assert calls_per_machine({"5": row(0.81)}) == 0


def test_the_kill_run_takes_the_highest_sustained_level_and_enough_rounds():
    from bench.workers import MAX_KILL_ROUNDS, kill_plan

    sweep = {"levels": {"5": {}, "10": {}, "20": {}}, "calls_per_machine": 10}
    assert kill_plan(sweep, ceiling=20, calls=100) == (10, min(MAX_KILL_ROUNDS, 10))
    assert kill_plan({**sweep, "calls_per_machine": 20}, ceiling=20, calls=100) == (20, 5)
    assert kill_plan({**sweep, "calls_per_machine": 0}, ceiling=20, calls=20) == (5, 4)  # none: the lowest
