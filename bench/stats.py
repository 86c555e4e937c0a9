"""Small measures every bench reports: percentiles, the machine's load, a process's CPU time."""

from __future__ import annotations

import os
from pathlib import Path


def pct(values: list[float], q: float) -> float | None:
    """The `q` quantile (nearest rank on the sorted values); None for no values."""
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def loadavg() -> list[float]:
    """The machine's 1/5/15-minute load: the figures mean little when other work shares the cores."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0
