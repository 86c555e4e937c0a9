"""Hot reload: poll the catalog files, validate changes off the event loop, swap the matcher atomically."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.filestamp import TreeStamp, tree_stamp
from intents.catalog import Catalog, load_catalog, load_dialect
from intents.matcher import Decision, Matcher

logger = logging.getLogger(__name__)


def _signature(directory: Path, dialect: Path | None) -> TreeStamp:
    """Stamps of every file that makes up the catalog; any edit, add, delete or atomic replace changes it."""
    return tree_stamp([directory] if dialect is None else [directory, dialect])


class CatalogWatcher:
    """Serves the current matcher; a valid edit replaces it whole, an invalid one is logged and ignored.

    Calls read `watcher.matcher` (one attribute read, so a swap never exposes a half-built catalog);
    a match already running finishes on the matcher it started with.
    """

    def __init__(
        self,
        settings: Any,
        *,
        catalog_dir: Path | None = None,
        dialect_table: Path | None = None,
        interval: float | None = None,
    ) -> None:
        self._settings = settings
        intents = settings.intents
        self.directory = Path(catalog_dir) if catalog_dir else settings.path(intents.catalog_dir)
        self.dialect_path = Path(dialect_table) if dialect_table else settings.path(intents.dialect_table)
        self.interval = interval if interval is not None else intents.reload_interval
        self._task: asyncio.Task[None] | None = None
        self._failed: TreeStamp | None = None
        self.reloads = 0  # successful swaps since start (for status pages and tests)
        self.last_error: str | None = None
        self._signature = _signature(self.directory, self.dialect_path)
        self.matcher = self._build()  # the first load must succeed: there is nothing to fall back to

    def _build(self) -> Matcher:
        intents = self._settings.intents
        catalog = load_catalog(
            self.directory, max_answer_seconds=intents.max_answer_seconds, speech_rate=intents.speech_rate
        )
        return Matcher(catalog, intents, dialect=load_dialect(self.dialect_path))

    @property
    def catalog(self) -> Catalog:
        return self.matcher.catalog

    def current(self) -> tuple[Catalog, Matcher]:
        """The catalog and matcher now serving, as one consistent pair (read once per call turn)."""
        matcher = self.matcher
        return matcher.catalog, matcher

    def match(self, text: str) -> Decision:
        return self.matcher.match(text)

    async def check(self) -> bool:
        """Reload if any file changed; True when a new catalog was swapped in."""
        sig = await asyncio.to_thread(_signature, self.directory, self.dialect_path)
        if sig == self._signature or sig == self._failed:
            return False
        try:
            matcher = await asyncio.to_thread(self._build)
        except ConfigError as exc:
            self._failed = sig
            self.last_error = str(exc)
            logger.error("intent catalog change rejected, the previous catalog keeps serving: %s", exc)
            return False
        except Exception:  # an unexpected failure must not stop the watcher or drop the old catalog
            self._failed = sig
            self.last_error = "unexpected error while reloading (see log)"
            logger.exception("intent catalog reload failed, the previous catalog keeps serving")
            return False
        # Files may have changed again while loading; the next poll sees that and reloads once more.
        self.matcher = matcher
        self._signature = sig
        self._failed = None
        self.last_error = None
        self.reloads += 1
        logger.info(
            "intent catalog reloaded: %d intents from %s", len(matcher.catalog.intents), self.directory
        )
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep polling whatever happens
                logger.exception("intent catalog watcher error")

    @property
    def running(self) -> bool:
        """Whether the polling task was started (and not stopped)."""
        return self._task is not None

    def start(self) -> None:
        """Start polling in the running event loop (does nothing if hot reload is off or already running)."""
        if self._task is None and self._settings.intents.hot_reload:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="intent-catalog-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> CatalogWatcher:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
