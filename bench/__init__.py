"""Benchmarks (`make bench`): each module has `run() -> dict`; results go to bench/results/<name>.json."""
