"""The hotline at 10/20/30 calls that come and go (about N up at once, each at its own point of the call),
beside the burst of `bench.ivr` (N calls starting within 4 s, their questions within a few seconds)."""

from __future__ import annotations

from bench.ivr import VARIANTS
from bench.ivr import run as run_calls


def run() -> dict:
    variants = {name: VARIANTS[name] for name in ("fixed_600ms", "shipped")}
    return run_calls((10, 20, 30), variants=variants, steady=True)
