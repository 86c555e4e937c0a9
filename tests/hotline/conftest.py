"""Fixtures of the tests under tests/hotline/."""

from __future__ import annotations

from tests.hotline.console_helpers import console_client, console_settings, logged_in, seeded  # noqa: F401
from tests.hotline.intent_edit_helpers import catalog_dir, client, edit_settings  # noqa: F401
