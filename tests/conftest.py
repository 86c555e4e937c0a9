"""Shared fixtures: paths, settings on a temporary data dir, the real Vietnamese speech clips."""

from __future__ import annotations

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


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings from the shipped config, with data and cache under a temporary directory."""
    from hotline.settings import load_settings

    monkeypatch.setenv("HOTLINE_PATHS__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_PATHS__CACHE_DIR", str(tmp_path / "var" / "cache"))
    return load_settings(ROOT / "config" / "hotline.yaml")
