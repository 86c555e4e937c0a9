"""Understanding what a caller wants: intent catalog and matcher.

Names are imported lazily: `hotline.settings` imports `intents.settings`, and that must not pull in
numpy and rapidfuzz for every command.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Catalog": "intents.catalog",
    "CatalogError": "intents.catalog",
    "load_catalog": "intents.catalog",
    "load_dialect": "intents.catalog",
    "Decision": "intents.matcher",
    "Matcher": "intents.matcher",
    "CatalogWatcher": "intents.watcher",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'intents' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
