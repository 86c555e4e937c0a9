"""Fixtures of the tests under tests/hotline/."""

from __future__ import annotations

from tests.hotline.console_helpers import console_client, console_settings, logged_in, seeded  # noqa: F401
