"""Soak, small: real SIP calls three at once, each hung up at a seeded random moment; nothing left behind.

The bounded version of `make bench`'s soak campaign (bench/soak.py), with the same scenarios and checks:
no channel, bridge or external media channel in Asterisk, no RTP port or socket, spooled recording,
extra open file, call session or open call row in the application, and a ticket for every call that
reached recording.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.soak import MOMENTS, Campaign, inventory, leaks, plan, publish_radio
from ivr.rtp import PortPool

from .conftest import free_rtp_range

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


def test_the_leak_checks_see_a_port_socket_and_file_held():
    """The checks themselves: a port taken from the pool, its socket, a spooled recording, a child process
    and open files are all reported."""

    class App:  # an idle application's view: what `inventory` reads
        sessions: dict = {}
        owned: dict = {}
        waiters: dict = {}
        s: SimpleNamespace

    class Handle:  # an Asterisk with nothing in it
        pid = None

        def channels(self):
            return []

        def bridges(self):
            return []

        def cli(self, command):
            return "0 active channels\n0 active calls\n"

    start, end = free_rtp_range(20)
    with tempfile.TemporaryDirectory() as tmp:
        app = App()
        app.s = SimpleNamespace(ports=PortPool(start, end), store=SimpleNamespace(recordings_dir=Path(tmp)))
        before = inventory(app, Handle())
        assert leaks(before, before) == []
        sock, port = app.s.ports.bind("127.0.0.1")
        files = [open(os.devnull) for _ in range(10)]  # noqa: SIM115 - held on purpose
        decoder = subprocess.Popen(["sleep", "30"])  # a process a call started and never ended
        (Path(tmp) / ".incoming").mkdir()
        (Path(tmp) / ".incoming" / "1-hl-media-x-rec1.raw").write_bytes(b"\0" * 320)
        try:
            found = leaks(before, inventory(app, Handle()))
        finally:
            sock.close()
            decoder.kill()
            decoder.wait(5)
            for f in files:
                f.close()
    assert found[:3] == ["rtp_ports_in_use: 1 left", "rtp_sockets_open: 1 left", "spooled_recordings: 1 left"]
    assert found[3].startswith("child processes:") and found[4].startswith("open files of the application:")
