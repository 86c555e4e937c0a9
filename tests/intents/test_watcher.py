"""Hot reload on a real temporary catalog directory: valid edits swap, invalid edits are rejected."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil

import pytest

from intents.watcher import CatalogWatcher
from tests.intents.conftest import CATALOG_DIR, DIALECT

NEW = """intents:
  - id: garbage
    title: phí rác
    answer: Phí rác nộp cho trưởng thôn.
    digit: "6.4"
    examples:
      - phí thu gom rác bao nhiêu
      - nộp tiền rác ở đâu
      - ai thu tiền rác ở thôn
    keywords:
      tiền rác: 1.0
"""


@pytest.fixture
def watched(tmp_path, settings):
    directory = tmp_path / "intents"
    shutil.copytree(CATALOG_DIR, directory)
    dialect = tmp_path / "dialect.yaml"
    shutil.copy(DIALECT, dialect)
    return CatalogWatcher(settings, catalog_dir=directory, dialect_table=dialect, interval=0.05)


def _touch_later(path):
    """Make sure the mtime moves even on coarse file systems."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


async def _wait_for(cond, limit_s=5.0):
    async with asyncio.timeout(limit_s):
        while not cond():  # noqa: ASYNC110 - observing the watcher's own polling task from outside
            await asyncio.sleep(0.02)


async def test_valid_edit_is_picked_up_by_the_polling_task(watched):
    assert watched.match("tiền rác tháng này nộp cho ai").intent is None
    async with watched:
        f = watched.directory / "garbage.yaml"
        f.write_text(NEW, encoding="utf-8")
        _touch_later(f)
        await _wait_for(lambda: watched.reloads == 1)
    assert watched.match("tiền rác tháng này nộp cho ai").intent == "garbage"
    catalog, matcher = watched.current()
    assert catalog is matcher.catalog and catalog.get("garbage").digit == "6.4"


async def test_invalid_edit_keeps_the_previous_catalog(watched, caplog):
    before = watched.matcher
    in_flight = before  # a call that already holds the matcher keeps it
    f = watched.directory / "identity.yaml"
    good = f.read_text(encoding="utf-8")
    f.write_text(good.replace("  - id: cccd", "  - id: cccd\n\tbroken: yes"), encoding="utf-8")
    _touch_later(f)
    with caplog.at_level(logging.ERROR, logger="intents.watcher"):
        assert await watched.check() is False
    assert watched.matcher is before
    assert "identity.yaml" in caplog.text and "previous catalog keeps serving" in caplog.text
    assert "identity.yaml" in (watched.last_error or "")
    assert watched.match("làm căn cước ở đâu").intent == "cccd"
    # the same broken state is not reported again on every poll
    caplog.clear()
    assert await watched.check() is False and not caplog.text
    # fixing the file swaps in a fresh catalog; the old matcher object still answers for its call
    f.write_text(
        good.replace("làm căn cước công dân ở đâu", "làm căn cước công dân ở chỗ nào"), encoding="utf-8"
    )
    _touch_later(f)
    assert await watched.check() is True
    assert watched.matcher is not before and watched.last_error is None
    assert in_flight.match("làm căn cước ở đâu").intent == "cccd"
    assert "làm căn cước công dân ở chỗ nào" in watched.catalog.get("cccd").examples


async def test_deleted_file_reloads_without_its_intents(watched):
    assert "radio" in watched.catalog
    text = (watched.directory / "contact.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: radio")
    (watched.directory / "contact.yaml").write_text(text[:start], encoding="utf-8")
    (watched.directory / "garbage.yaml").write_text(NEW.replace('"6.4"', '"9"'), encoding="utf-8")
    assert await watched.check() is True
    assert "radio" not in watched.catalog and watched.catalog.resolve_keys("9").id == "garbage"
    (watched.directory / "garbage.yaml").unlink()
    assert await watched.check() is True
    assert "garbage" not in watched.catalog


async def test_dialect_table_edit_reloads(watched):
    assert watched.match("làm căn cước ở chỗ mô").text.endswith("ở chỗ đâu")
    text = watched.dialect_path.read_text(encoding="utf-8").replace("  mô: đâu\n", "")
    text = text.replace("  ở mô: ở đâu\n", "")
    watched.dialect_path.write_text(text, encoding="utf-8")
    _touch_later(watched.dialect_path)
    assert await watched.check() is True
    assert watched.match("làm căn cước ở chỗ mô").text.endswith("ở chỗ mô")


async def test_first_load_must_be_valid(tmp_path, settings):
    from intents.catalog import CatalogError

    with pytest.raises(CatalogError, match="catalog directory not found"):
        CatalogWatcher(settings, catalog_dir=tmp_path / "missing")


async def test_hot_reload_off_starts_no_task(watched, settings):
    off = settings.model_copy(update={"intents": settings.intents.model_copy(update={"hot_reload": False})})
    w = CatalogWatcher(off, catalog_dir=watched.directory, dialect_table=watched.dialect_path)
    async with w:
        assert not w.running
