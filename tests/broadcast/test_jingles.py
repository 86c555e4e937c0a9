from __future__ import annotations

import numpy as np
import soundfile as sf

from broadcast import jingles
from tests.broadcast.conftest import ROOT

DIR = ROOT / "audio_assets" / "jingles"


def test_committed_jingles_are_what_our_generator_makes(tmp_path):
    written = jingles.generate(tmp_path)
    assert {p.name for p in written} == {"intro.wav", "outro.wav", "alert.wav", "bed.wav"}
    for p in written:
        fresh, rate = sf.read(str(p), dtype="int16")
        committed, committed_rate = sf.read(str(DIR / p.name), dtype="int16")
        assert rate == committed_rate and fresh.shape == committed.shape
        assert np.max(np.abs(fresh.astype(int) - committed.astype(int))) <= 1


def test_jingles_are_short_clean_and_end_in_silence():
    lengths = (("intro.wav", 2.5, 5.0), ("outro.wav", 2.5, 5.0), ("alert.wav", 2.5, 4.0), ("bed.wav", 10, 40))
    for name, lo, hi in lengths:
        data, rate = sf.read(str(DIR / name), dtype="float64")
        assert lo <= len(data) / rate <= hi
        assert 0.3 < np.max(np.abs(data)) < 0.95  # headroom, not clipped
    intro, _ = sf.read(str(DIR / "intro.wav"), dtype="float64")
    assert np.max(np.abs(intro[-100:])) < 0.01  # faded out: no click


def test_bed_loops_without_a_seam():
    bed, rate = sf.read(str(DIR / "bed.wav"), dtype="float64")
    jump = abs(bed[-1] - bed[0])
    typical = np.median(np.abs(np.diff(bed)))
    assert jump < 20 * typical + 1e-3
