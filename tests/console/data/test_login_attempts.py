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


def test_parallel_logins_from_many_addresses_clear_expired_attempts_without_failing(db_settings):
    # Every reservation removes the expired attempts of all addresses; parallel ones from different
    # addresses (different locks) must neither fail nor leave expired rows behind.
    from sqlalchemy import func, select

    from console.models import LoginAttempt
    from core.db import engine_for, session_factory

    now = [dt.datetime(2030, 1, 1, 8, 0)]
    settings = _migrated(db_settings)
    old = _limiter(settings, now, limit=1000)
    for i in range(200):
        old.reserve(f"user{i % 7}", f"10.1.0.{i % 50}")
    now[0] += dt.timedelta(seconds=301)
    limiters = [_limiter(settings, now), _limiter(settings, now)]
    start = threading.Barrier(16)
    errors: list[BaseException] = []
    granted: list[bool] = []

    def attempt(i: int) -> None:
        start.wait(timeout=30)
        try:
            granted.append(limiters[i % 2].reserve("lan", f"10.2.0.{i}") is not None)
        except BaseException as exc:  # a deadlock or serialization failure surfaces here
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and granted.count(True) == 16
    limiters[0].reserve("lan", "10.3.0.1")  # a last one with nobody else removing: all expired gone
    with session_factory(engine_for(settings))() as s:
        since = now[0] - dt.timedelta(seconds=300)
        assert s.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at < since)) == 0
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 17
