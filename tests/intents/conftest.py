"""Fixtures for intent tests: the shipped catalog, a matcher on it, and a writable copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "config" / "intents"
DIALECT = ROOT / "config" / "dialect.yaml"
CASES = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def catalog():
    from intents.catalog import load_catalog

    return load_catalog(CATALOG_DIR)


@pytest.fixture(scope="session")
def matcher(catalog):
    from intents.catalog import load_dialect
    from intents.matcher import Matcher
    from intents.settings import IntentSettings

    return Matcher(catalog, IntentSettings(), dialect=load_dialect(DIALECT))


@pytest.fixture
def catalog_copy(tmp_path) -> Path:
    """A writable copy of the shipped catalog directory."""
    dst = tmp_path / "intents"
    shutil.copytree(CATALOG_DIR, dst)
    return dst
