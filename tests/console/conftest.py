"""Fixtures of the tests under tests/console/ (defined in helpers.py and intent_helpers.py)."""

from __future__ import annotations

from tests.console.helpers import console_client, console_settings, logged_in, seeded  # noqa: F401
from tests.console.intent_helpers import catalog_dir, client, edit_settings  # noqa: F401
