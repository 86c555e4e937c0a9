"""`hotline_tickets_overdue`: tickets past their due date and not handled, counted at each scrape.

Registered once per process (the metrics registry is global); the call store of the running hotline is
what it counts. Before one exists the gauge has no sample (a web process without calls), not a 0.
"""

from __future__ import annotations

from collections.abc import Callable

from core.metrics import PREFIX, Reading, gauge_from

_count: Callable[[], int] | None = None


def watch(count: Callable[[], int] | None) -> None:
    """Count overdue tickets with `count` (the running hotline's `CallStore.count_overdue`; None: stop)."""
    global _count
    _count = count


def _read() -> Reading:
    return {} if _count is None else _count()


gauge_from(PREFIX + "tickets_overdue", "Tickets past their due date and not handled yet", _read)
