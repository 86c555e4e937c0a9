"""Dashboard benchmark: how long the managers' figures take on 13 months of a busy hotline's call log
(a real SQLite file, migrated like production). `run()` returns the figures; it writes nothing else.

Run alone with `python -m bench.dashboard`.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

CALLS_PER_DAY = 500
TURNS_PER_CALL = 4
SEED = 20261101
LAST_DAY = dt.date(2026, 11, 30)
OUTCOMES = ("answered", "answered", "transferred", "abandoned", "not_understood", "ticket", "dossier")
INTENTS = ("cccd", "feedback", "e_tax", "birth_registration", "land", "vneid", "social_insurance")


def _fill(url: str, days: int) -> tuple[int, int]:
    """Calls and turns over `days` local days up to LAST_DAY; returns (calls, turns) written."""
    from sqlalchemy import insert

    from core.db import make_engine
    from ivr.models import Call, Turn

    rng = random.Random(SEED)
    engine = make_engine(url)
    first = dt.datetime.combine(LAST_DAY - dt.timedelta(days=days - 1), dt.time()) - dt.timedelta(hours=7)
    call_rows, turn_rows = [], []
    call_id = 0
    for day in range(days):
        for _ in range(CALLS_PER_DAY):
            call_id += 1
            at = first + dt.timedelta(days=day, seconds=rng.randint(0, 86_399))
            asked = rng.random() < 0.6
            call_rows.append(
                {
                    "id": call_id,
                    "channel_id": f"bench-{call_id}",
                    "started_at": at,
                    "outcome": rng.choice(OUTCOMES),
                    "satisfaction": rng.randint(1, 5) if asked and rng.random() < 0.7 else None,
                }
            )
            for seq in range(1, TURNS_PER_CALL + 1):
                nu = rng.random() < 0.2
                turn_rows.append(
                    {
                        "call_id": call_id,
                        "seq": seq,
                        "at": at,
                        "kind": "speech",
                        "action": "fail:not_understood"
                        if nu
                        else ("rating_asked" if asked and seq == 4 else None),
                        "intent": None if nu else rng.choice(INTENTS),
                        "response_ms": rng.randint(200, 4000),
                    }
                )
    with engine.begin() as conn:
        conn.execute(insert(Call), call_rows)
        conn.execute(insert(Turn), turn_rows)
    engine.dispose()
    return len(call_rows), len(turn_rows)


def _timed(fn: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000)


def run() -> dict[str, Any]:
    from sqlalchemy.orm import sessionmaker

    from console.data.periods import MAX_DAYS, Period, day_range
    from console.data.trends import trends
    from core.db import make_engine
    from hotline.db import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hotline.sqlite3'}"
        upgrade(url)
        started = time.perf_counter()
        n_calls, n_turns = _fill(url, MAX_DAYS)
        fill_s = time.perf_counter() - started
        factory = sessionmaker(make_engine(url))
        today = LAST_DAY
        longest = today - dt.timedelta(days=MAX_DAYS - 1)
        spans = {
            "30_days_by_day": day_range(today - dt.timedelta(days=29), today, Period.DAY, today),
            "400_days_by_day": day_range(longest, today, Period.DAY, today),
            "13_months_by_month": day_range(longest, today, Period.MONTH, today),
        }
        timings = {name: _timed(lambda span=span: trends(factory, span)) for name, span in spans.items()}
    return {
        "calls": n_calls,
        "turns": n_turns,
        "calls_per_day": CALLS_PER_DAY,
        "fill_seconds": round(fill_s, 1),
        "trends_ms_best_of_3": timings,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
