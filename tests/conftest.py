"""Shared fixtures: paths, settings on a temporary data dir, the real Vietnamese speech clips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
# Operator passwords in tests: scrypt at N=2^14 (16 MiB, a few ms) instead of the product's 2^17 (128 MiB,
# about 0.6 s); the suite makes and checks hundreds of them. One test checks the product's own cost.
TEST_SCRYPT_N = 2**14


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    """Lowers the scrypt cost for the whole run (session scope: module fixtures make accounts too)."""
    from console.data import operators

    production = operators.SCRYPT_N
    operators.SCRYPT_N = TEST_SCRYPT_N
    yield production
    operators.SCRYPT_N = production


@pytest.fixture
def production_scrypt_cost(cheap_password_hashes, monkeypatch):
    """The product's scrypt cost, as the module defines it, for the one test that checks it."""
    from console.data import operators

    monkeypatch.setattr(operators, "SCRYPT_N", cheap_password_hashes)
    return cheap_password_hashes


def _settings(tmp_path, monkeypatch, database_url: str = ""):
    from hotline.settings import load_settings

    monkeypatch.setenv("HOTLINE_PATHS__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_PATHS__CACHE_DIR", str(tmp_path / "var" / "cache"))
    if database_url:
        monkeypatch.setenv("HOTLINE_DATABASE__URL", database_url)
    return load_settings(ROOT / "config" / "hotline.yaml")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings from the shipped config, with data and cache under a temporary directory."""
    return _settings(tmp_path, monkeypatch)


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL cluster for the session, started by the first test that asks for it.

    Under `make test` (TEST_POSTGRES=required) a cluster that cannot start fails those tests;
    elsewhere they are skipped with the reason.
    """
    from tests.pg import PostgresUnavailable, start_cluster

    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        if os.environ.get("TEST_POSTGRES") == "required":
            pytest.fail(f"PostgreSQL could not start: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request):
    """Runs a test once per back-end; PostgreSQL's cluster starts only when such a test runs."""
    return None if request.param == "sqlite" else request.getfixturevalue("postgres")


@pytest.fixture
def db_url(db_backend, tmp_path):
    """An empty database on each back-end: a SQLite file, or a new database in the session's cluster."""
    if db_backend is None:
        yield f"sqlite:///{tmp_path / 'var' / 'hotline.db'}"
        return
    url = db_backend.create_database()
    yield url
    db_backend.drop_database(url)


@pytest.fixture
def migrated_db_url(db_backend):
    """ "" on SQLite (the settings' default file, migrated by the test), or a new PostgreSQL database
    copied from one migrated once per session (a copy is cheap; migrating each costs seconds)."""
    if db_backend is None:
        yield ""
        return
    url = db_backend.create_database(template=db_backend.migrated())
    yield url
    db_backend.drop_database(url)


@pytest.fixture
def db_settings(migrated_db_url, tmp_path, monkeypatch):
    """`settings` on each back-end (`migrated_db_url`)."""
    return _settings(tmp_path, monkeypatch, migrated_db_url)
