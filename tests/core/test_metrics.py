"""The metrics registry: our prefix everywhere, errors by stage, gauges read at scrape time."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

import ivr.metrics  # noqa: F401  (registers the call application's metrics)
import voice.pool  # noqa: F401  (registers the engine pools' gauges)
from core import metrics


def families() -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}


def sample(name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise AssertionError(f"no sample {name} {labels}")


def test_every_metric_is_ours_and_parses():
    names = families()
    assert names and all(name.startswith("hotline_") for name in names), sorted(names)
    expected = {
        "hotline_calls_active",
        "hotline_calls",
        "hotline_answer_latency_seconds",
        "hotline_turn_ends",
        "hotline_turn_judgement_seconds",
        "hotline_turn_judgements_late",
        "hotline_errors",
        "hotline_ari_connected",
        "hotline_ari_reconnects",
        "hotline_engine_pool_queued_jobs",
        "hotline_engine_pool_saturation",
        "hotline_process_resident_memory_bytes",
    }
    assert expected <= set(names), expected - set(names)


def test_every_error_stage_and_outcome_is_present_before_it_happens():
    from ivr.enums import Outcome

    for stage in metrics.ErrorStage:
        sample("hotline_errors_total", stage=stage.value)
    for outcome in Outcome:
        if outcome != Outcome.IN_PROGRESS:
            sample("hotline_calls_total", outcome=outcome.value)


def test_count_error_counts_its_stage_only():
    before = {s: sample("hotline_errors_total", stage=s.value) for s in metrics.ErrorStage}
    metrics.count_error(metrics.ErrorStage.TTS)
    after = {s: sample("hotline_errors_total", stage=s.value) for s in metrics.ErrorStage}
    assert {s: after[s] - before[s] for s in metrics.ErrorStage if after[s] != before[s]} == {
        metrics.ErrorStage.TTS: 1
    }


def test_a_gauge_from_a_function_is_read_at_each_scrape():
    state = {"open": 3.0, "fail": False}

    def read() -> float:
        if state["fail"]:
            raise RuntimeError("database is locked")
        return state["open"]

    metrics.gauge_from("hotline_test_things_open", "Things open (a test)", read)
    metrics.gauge_from(
        "hotline_test_things_by_kind", "Things by kind (a test)", lambda: {("a",): 1, ("b",): 2}, ["kind"]
    )
    try:
        assert sample("hotline_test_things_open") == 3
        state["open"] = 5
        assert sample("hotline_test_things_open") == 5  # not cached: read again
        assert sample("hotline_test_things_by_kind", kind="b") == 2
        state["fail"] = True
        names = families()  # the scrape still works, without that gauge
        assert "hotline_test_things_open" not in names and "hotline_calls" in names
    finally:
        for collector in list(metrics.REGISTRY._collector_to_names):
            if getattr(collector, "name", "").startswith("hotline_test_"):
                metrics.REGISTRY.unregister(collector)


def test_a_gauge_without_our_prefix_is_refused():
    with pytest.raises(ValueError, match="hotline_"):
        metrics.gauge_from("tickets_overdue", "no prefix", lambda: 0)


def test_call_log_seams_move_active_calls_and_outcomes():
    from ivr import metrics as call_metrics

    active = sample("hotline_calls_active")
    answered = sample("hotline_calls_total", outcome="answered")
    call_metrics.call_started()
    assert sample("hotline_calls_active") == active + 1
    call_metrics.call_ended("answered")
    assert sample("hotline_calls_active") == active
    assert sample("hotline_calls_total", outcome="answered") == answered + 1
    call_metrics.answered("dtmf", 0.25)
    assert sample("hotline_answer_latency_seconds_bucket", input="dtmf", le="0.3") >= 1
