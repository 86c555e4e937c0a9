"""The tests' throw-away PostgreSQL: a cluster left behind by a test run killed with SIGKILL is stopped
and removed by the next run, and a live run's cluster is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.pg import OWNER_FILE, _run_as, reap_leftovers, server_bindir

ROOT = Path(__file__).resolve().parents[1]

STARTER = """
import time
from tests.pg import start_cluster
cluster = start_cluster()
print(cluster.root, flush=True)
time.sleep(120)
"""


def _postmaster_pid(root: Path) -> int:
    return int((root / "data" / "postmaster.pid").read_text().split()[0])


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_runs_cluster_is_stopped_and_removed_by_the_next(postgres):
    run_as, _, _ = _run_as()
    bindir = server_bindir()
    child = subprocess.Popen(
        [sys.executable, "-c", STARTER], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline().strip()
        assert line, child.stderr.read()[-1000:]
        left = Path(line)
        server = _postmaster_pid(left)
        assert _running(server)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert _running(server)  # killed tests leave their server running: what the reaper is for

        # the session's own cluster belongs to a live process: untouched
        assert int((postgres.root / OWNER_FILE).read_text()) == os.getpid()
        removed = reap_leftovers(run_as, bindir)

        assert left in removed and postgres.root not in removed
        assert not left.exists()
        deadline = time.monotonic() + 10
        while _running(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(server)
        assert postgres.create_database()  # the session's cluster still serves
    finally:
        if child.poll() is None:
            child.kill()
