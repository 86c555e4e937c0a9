"""Broadcast test fixtures: settings on temporary storage, short bulletins, independent measurement."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "broadcast" / "samples"

# A short bulletin: rendering it takes a few seconds, so the slow tests stay within minutes.
SHORT = """---
title: {title}
date: {date}
communes: {communes}
priority: {priority}
template: {template}
---
## Dịch vụ công

Từ ngày 1/12/2026, bà con nộp 95% thủ tục qua mạng.
"""


def short_bulletin(
    title: str = "Bản tin thử",
    date: str = "2026-11-24",
    communes: str = "all",
    priority: str = "normal",
    template: str = "ban-tin",
    extra: str = "",
) -> str:
    text = SHORT.format(title=title, date=date, communes=communes, priority=priority, template=template)
    if extra:
        text = text.replace("---\n## ", f"{extra}\n---\n## ", 1)
    return text


def make_settings(tmp: Path, **env: str):
    """Settings from the shipped config with data under `tmp` (plus HOTLINE_... overrides)."""
    from hotline.settings import load_settings

    base = {
        "HOTLINE_PATHS__DATA_DIR": str(tmp / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(tmp / "var" / "cache"),
    }
    base.update(env)
    return load_settings(ROOT / "config" / "hotline.yaml", env=base)


@pytest.fixture
def bsettings(tmp_path):
    return make_settings(tmp_path)


def decode_mp3(path: Path) -> tuple[np.ndarray, int]:
    """Decode with ffmpeg to float samples at the file's own rate (independent of the code under test)."""
    import soundfile as sf

    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "wav", "-acodec", "pcm_f32le", "-"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    data, rate = sf.read(io.BytesIO(proc.stdout), dtype="float64", always_2d=True)
    return data.mean(axis=1), rate


def measure(path: Path) -> tuple[float, float, float]:
    """(integrated loudness LUFS, true peak dBTP, duration s) of an MP3, measured here, not by broadcast/."""
    import pyloudnorm
    from scipy.signal import resample_poly

    x, rate = decode_mp3(path)
    lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
    up = resample_poly(x, 4, 1)  # BS.1770 annex 2: 4x oversampling, then the sample peak
    tp = 20 * np.log10(max(np.max(np.abs(up)), 1e-12))
    return float(lufs), float(tp), len(x) / rate
