"""The login limiter on a real SQLite file (and PostgreSQL where it matters): window, per-address limit,
success, parallel reservations."""

from __future__ import annotations

import datetime as dt
import threading


def _limiter(settings, now: list[dt.datetime], limit: int = 5):
    from console.data.login_attempts import LoginLimiter
    from core.db import engine_for, session_factory

    return LoginLimiter(
        session_factory(engine_for(settings)), limit=limit, window_s=300, clock=lambda: now[0]
    )


def _migrated(settings):
    from hotline.db import upgrade

    upgrade(settings.database_url)
    return settings


def test_attempts_count_for_the_window_per_name_and_per_address(db_settings):
    now = [dt.datetime(2030, 1, 1, 8, 0)]
    limiter = _limiter(_migrated(db_settings), now)
    assert all(limiter.reserve("Lan", "10.0.0.1") for _ in range(5))
    assert limiter.reserve("lan ", "10.0.0.1") is None  # names compared as the login form does
    assert limiter.reserve("lan", "10.0.0.2") is not None  # per address
    now[0] += dt.timedelta(seconds=301)
    assert limiter.reserve("lan", "10.0.0.1") is not None
    # Many names from one address: the per-address limit (4x) applies.
    for i in range(20):
        assert limiter.reserve(f"user{i}", "10.0.0.3") is not None
    assert limiter.reserve("someone-new", "10.0.0.3") is None


def test_a_success_clears_its_name_and_address_only(console_settings):
    now = [dt.datetime(2030, 1, 1, 8, 0)]
    limiter = _limiter(console_settings, now)
    for _ in range(4):
        limiter.reserve("lan", "10.0.0.1")
        limiter.reserve("minh", "10.0.0.1")
    limiter.succeeded(limiter.reserve("lan", "10.0.0.1"))
    assert all(limiter.reserve("lan", "10.0.0.1") for _ in range(5))
    assert limiter.reserve("minh", "10.0.0.1") is not None  # its fifth
    assert limiter.reserve("minh", "10.0.0.1") is None


def test_parallel_reservations_from_two_processes_never_exceed_the_limit(db_settings):
    now = [dt.datetime(2030, 1, 1, 8, 0)]
    # Two limiters with their own engines: two web processes sharing the database (file or server).
    settings = _migrated(db_settings)
    limiters = [_limiter(settings, now), _limiter(settings, now)]
    start = threading.Barrier(16)
    granted: list[bool] = []

    def attempt(i: int) -> None:
        start.wait(timeout=30)
        granted.append(limiters[i % 2].reserve("lan", "10.0.0.1") is not None)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(granted) == 16 and granted.count(True) == 5
