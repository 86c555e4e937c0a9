"""Engines loaded lazily on first use and kept, with one lock per key so each loads once per registry."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def import_engine(spec: str) -> Any:
    """The object named by a "module:attr" spec, importing its module only now."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class LazyRegistry(Generic[K, V]):
    """Values loaded on first use and kept until `close` (blocking: call `get` from a worker thread)."""

    def __init__(self, what: str) -> None:
        self._what = what  # names the values in log messages, e.g. "ASR engine"
        self._values: dict[K, V] = {}
        self._loading: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The value kept under `key`, calling `load` once to make it; a failed load is not kept."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                return value
            loading = self._loading.setdefault(key, threading.Lock())
        # One lock per key: a slow load of one model does not hold up users of another.
        with loading:
            with self._lock:
                value = self._values.get(key)
            if value is not None:
                return value
            value = load()
            with self._lock:
                self._values[key] = value
            return value

    def put(self, key: K, value: V) -> None:
        """Keep an already loaded value under `key`, replacing any other."""
        with self._lock:
            self._values[key] = value

    def keys(self) -> list[K]:
        with self._lock:
            return list(self._values)

    def close(self) -> None:
        """Close every kept value and forget them all."""
        with self._lock:
            values, self._values = list(self._values.values()), {}
        for value in values:
            try:
                value.close()  # type: ignore[attr-defined]
            except Exception:  # closing must release the others even if one fails
                logger.exception("closing %s %s failed", self._what, getattr(value, "name", "?"))
