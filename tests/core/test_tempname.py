"""Temporary names for atomic writes into directories shared by processes and machines."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from core.tempname import temp_beside


def test_names_are_hidden_beside_the_target_and_never_shared_by_two_writers():
    target = Path("/srv/hotline/recordings/greeting.wav")
    names: list[Path] = []
    lock = threading.Lock()

    def take() -> None:
        got = [temp_beside(target) for _ in range(200)]
        with lock:
            names.extend(got)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(names) == 800 and len(set(names)) == 800  # threads of one process share its pid
    assert all(n.parent == target.parent and n.name.startswith(".greeting.wav.") for n in names)
    assert all(n.suffix == ".part" for n in names)  # loaders and watchers skip hidden .part files
    assert socket.gethostname().split(".")[0][:32] in names[0].name  # two machines, same pid: apart
