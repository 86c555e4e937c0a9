"""The intent catalog as operators see it: loaded with the checker's rules, reloaded when its files change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError
from core.filestamp import TreeStamp, tree_stamp
from intents.catalog import CatalogError, load_catalog, load_dialect
from intents.matcher import Matcher

if TYPE_CHECKING:
    from intents.catalog import Catalog
    from intents.matcher import Matcher
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogState:
    """Either a loaded catalog with its matcher, or the problems `hotline intents check` would list."""

    catalog: Catalog | None
    matcher: Matcher | None
    problems: tuple[str, ...]
    summary: str  # the `hotline intents check` line


def check_catalog(
    settings: IvrConfig,
    directory: Path,
    dialect_path: Path,
    sources: Mapping[Path, Path] | None = None,
) -> CatalogState:
    """Load the catalog with the checks of `hotline intents check`; problems are returned, not raised.

    `sources` checks edited copies in place of catalog files (see `intents.catalog.load_catalog`).
    """

    cfg = settings.intents
    try:
        catalog = load_catalog(
            directory,
            max_answer_seconds=cfg.max_answer_seconds,
            speech_rate=cfg.speech_rate,
            sources=sources,
        )
        dialect = load_dialect(dialect_path)
        matcher = Matcher(catalog, cfg, dialect=dialect)
    except CatalogError as exc:
        n = len(exc.problems)
        return CatalogState(None, None, tuple(exc.problems), f"{n} problem{'s' if n != 1 else ''}")
    except ConfigError as exc:
        return CatalogState(None, None, (str(exc),), "1 problem")
    examples = sum(len(i.examples) for i in catalog.intents)
    summary = (
        f"ok: {len(catalog.intents)} intents, {examples} examples, "
        f"{len(matcher.dialect.words)} dialect words, {len(catalog.files)} files"
    )
    return CatalogState(catalog, matcher, (), summary)


class CatalogView:
    """Loads the catalog on first use and again whenever a file changed (same checks as `intents check`)."""

    def __init__(self, settings: IvrConfig) -> None:
        self.settings = settings
        self.directory = settings.path(settings.intents.catalog_dir)
        self.dialect_path = settings.path(settings.intents.dialect_table)
        self._lock = threading.Lock()
        self._sig: TreeStamp | None = None
        self._state: CatalogState | None = None

    def _load(self) -> CatalogState:
        return check_catalog(self.settings, self.directory, self.dialect_path)

    def invalidate(self) -> None:
        """Load again on the next `state()` even if no file's stamp changed (after an edit)."""
        with self._lock:
            self._sig = None

    def state(self) -> CatalogState:
        """The current catalog (blocking: call it from a worker thread)."""
        sig = tree_stamp([self.directory, self.dialect_path])
        with self._lock:
            if self._state is None or sig != self._sig:
                self._state = self._load()
                self._sig = sig
                if self._state.problems:
                    logger.warning("intent catalog has %d problem(s)", len(self._state.problems))
            return self._state
