"""Soak, small: real SIP calls three at once, each hung up at a seeded random moment; nothing left behind.

The bounded version of `make bench`'s soak campaign (bench/soak.py), with the same scenarios and checks:
no channel, bridge or external media channel in Asterisk, no RTP port or socket, spooled recording,
extra open file, call session or open call row in the application, and a ticket for every call that
reached recording.
"""

from __future__ import annotations

import pytest

from bench.soak import MOMENTS, Campaign, plan, publish_radio

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

SEED = 7
CALLS = 9


def test_calls_hung_up_at_random_moments_leave_nothing_behind(hotline, asterisk):
    hotline.wait_idle()
    publish_radio(hotline.app)
    campaign = Campaign(
        hotline.app, asterisk.handle, asterisk.target(), hotline.factory, concurrency=3, budget_s=240
    )
    plans = plan(CALLS, SEED)
    assert {p.moment for p in plans} == set(MOMENTS)
    result = campaign.run(plans)
    assert result["calls_connected"] == CALLS, campaign.results
    assert result["ok"], (result["leaks"], result["after"])
    assert result["reached_recording"] >= 1, result["outcomes"]
