"""The ringing tone the caller hears while an operator's phone rings."""

from __future__ import annotations

import numpy as np

from ivr.tones import RINGBACK_HZ, ringback
from voice.audio import TELEPHONE_RATE


def test_ringback_cadence_is_one_second_on_four_off():
    x = ringback(10.0).array().astype(np.float64)
    assert x.size == 10 * TELEPHONE_RATE
    level = np.sqrt(np.mean(x.reshape(-1, TELEPHONE_RATE // 10) ** 2, axis=1))  # per 100 ms
    on = level > 1000
    assert on[:10].all() and not on[11:49].any() and on[50:60].all()


def test_ringback_is_a_425_hz_tone_without_clicks():
    x = ringback(1.0).array().astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.fft.rfftfreq(x.size, 1 / TELEPHONE_RATE)[spectrum.argmax()] - RINGBACK_HZ) <= 1
    assert abs(x[0]) < 50 and abs(x[-1]) < 50  # ramps in and out
    assert 0.1 < np.abs(x).max() / 32768 < 0.3  # about -16 dBFS: audible, not harsh
