"""Shared fixtures: paths, settings on a temporary data dir, the real Vietnamese speech clips."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings from the shipped config, with data and cache under a temporary directory."""
    from hotline.settings import load_settings

    monkeypatch.setenv("HOTLINE_PATHS__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_PATHS__CACHE_DIR", str(tmp_path / "var" / "cache"))
    return load_settings(ROOT / "config" / "hotline.yaml")
