"""The process's Prometheus metrics: one registry, every name prefixed `hotline_`, errors by stage, and
gauges read at scrape time.

Areas declare their own metrics on `REGISTRY` (`ivr.metrics`, `voice.pool`); `render()` is what `/metrics`
serves. A figure that lives in the database (overdue tickets, say) is one call to `gauge_from`: the
function runs at each scrape, so nothing has to keep the gauge up to date.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, ProcessCollector, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

PREFIX = "hotline_"
CONTENT_TYPE = CONTENT_TYPE_LATEST  # the text exposition format Prometheus scrapes

# Counters would otherwise carry a `_created` series each: a timestamp no dashboard here reads.
disable_created_metrics()

# Our own registry, not the library's default one: only our metrics, all under our prefix.
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(namespace="hotline", registry=REGISTRY)  # memory, CPU, open files of this process


class ErrorStage(StrEnum):
    """Where a failure happened (`hotline_errors_total{stage}`)."""

    ASR = "asr"  # speech recognition failed, timed out or was unavailable for an utterance
    ASR_BUSY = "asr_busy"  # every recognition slot was busy: the caller was sent to the keypad
    TTS = "tts"  # an answer's audio could not be synthesized in time
    MEDIA = "media"  # a call's RTP port or endpoint could not be opened
    DATABASE = "database"  # the database refused a call log row or a ticket (kept and retried)
    ARI = "ari"  # an ARI request to Asterisk failed
    CALL = "call"  # a call ended on an unexpected error in our code


ERRORS = Counter(
    PREFIX + "errors",
    "Failures by stage (each was handled: a fallback, a retry or a keypad menu)",
    ["stage"],
    registry=REGISTRY,
)
for _stage in ErrorStage:
    ERRORS.labels(_stage.value)  # present at 0 from the start: a rate() needs the series to exist


def count_error(stage: ErrorStage) -> None:
    """One failure at `stage`; never raises (metrics must not break a call)."""
    ERRORS.labels(stage.value).inc()


Reading = float | Mapping[tuple[str, ...], float]


class _ScrapeTimeGauge(Collector):
    """A gauge whose value `read()` computes at each scrape (a scalar, or label values -> value)."""

    def __init__(self, name: str, documentation: str, read: Callable[[], Reading], labels: Sequence[str]):
        self.name, self.documentation, self.read, self.labels = name, documentation, read, list(labels)

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation, labels=self.labels or None)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels or None)
        try:
            value = self.read()
        except Exception as exc:  # a locked database must not fail the whole scrape
            logger.warning("metric %s not read: %s", self.name, exc)
            return
        if isinstance(value, Mapping):
            for label_values, v in value.items():
                family.add_metric(list(label_values), float(v))
        else:
            family.add_metric([], float(value))
        yield family


def gauge_from(
    name: str, documentation: str, read: Callable[[], Reading], labels: Sequence[str] = ()
) -> None:
    """Register a gauge computed by `read()` at each scrape, e.g.
    `gauge_from("hotline_tickets_overdue", "Open tickets past their deadline", lambda: count_overdue(db))`.
    A failing `read` leaves the gauge out of that scrape (logged) instead of failing it."""
    if not name.startswith(PREFIX):
        raise ValueError(f"metric {name!r} must start with {PREFIX!r}")
    REGISTRY.register(_ScrapeTimeGauge(name, documentation, read, labels))


def render() -> bytes:
    """Every metric of this process in Prometheus' text format."""
    return generate_latest(REGISTRY)
