"""Call-progress tones the application itself sends to the caller."""

from __future__ import annotations

import numpy as np

from voice.audio import TELEPHONE_RATE, AudioChunk

# Vietnam's ringing tone (ITU-T E.180 list): 425 Hz, 1 s on, 4 s off. A caller waiting for an operator
# hears what a ringing phone sounds like on Vietnamese networks instead of silence (dead air).
RINGBACK_HZ = 425.0
RINGBACK_ON_S = 1.0
RINGBACK_OFF_S = 4.0
RINGBACK_LEVEL_DBFS = -16.0  # about the level of the prompts; a tone at full scale is harsh on a handset


def ringback(seconds: float, rate: int = TELEPHONE_RATE) -> AudioChunk:
    """`seconds` of ringing tone cadence, starting with a ring (10 ms ramps, so no clicks)."""
    n = max(0, int(round(seconds * rate)))
    t = np.arange(n) / rate
    period = RINGBACK_ON_S + RINGBACK_OFF_S
    phase = np.mod(t, period)
    ramp = 0.01
    envelope = np.clip(np.minimum(phase, RINGBACK_ON_S - phase) / ramp, 0.0, 1.0)
    amplitude = 10 ** (RINGBACK_LEVEL_DBFS / 20)
    x = amplitude * envelope * np.sin(2 * np.pi * RINGBACK_HZ * t)
    return AudioChunk.from_array(np.round(x * 32767).astype(np.int16), rate)
