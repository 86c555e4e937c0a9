"""Safe file writes for console edits: candidates a killed save left behind are swept, live ones are not."""

from __future__ import annotations

import os
import time

from console.edit.files import STALE_CANDIDATE_S, candidate


def test_a_candidate_a_killed_save_left_is_swept_by_the_next_save_and_a_recent_one_kept(tmp_path):
    old = tmp_path / ".business.yaml.k1ll3d.tmp"  # what kill -9 during a save leaves
    recent = tmp_path / ".business.yaml.s4v1ng.tmp"  # another save in progress right now
    other = tmp_path / ".prompts.yaml.0ld.tmp"  # another file's: not this save's business
    for path in (old, recent, other):
        path.write_text("half")
    long_ago = time.time() - STALE_CANDIDATE_S - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))
    with candidate(tmp_path, "business.yaml", "intents: []\n") as tmp:
        assert tmp.read_text() == "intents: []\n"
    assert not old.exists() and recent.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([recent.name, other.name])
