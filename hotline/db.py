"""Schema migrations (Alembic): one branch per area, all brought to their newest revision together."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Any:  # -> alembic.config.Config
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the schema to the newest revision of every area (`heads`: areas are branches).

    Processes that start together (the call worker and the web app, workers on several machines) may
    all upgrade at once: one migrates, the others wait and find the schema current. PostgreSQL: an
    advisory lock in the migration's transaction (migrations/env.py). SQLite: a lock file beside the
    database, since pysqlite runs each DDL statement outside a transaction.
    """
    from alembic import command

    if not url.startswith("sqlite:///"):
        command.upgrade(alembic_config(url), "heads")
        return
    db = Path(url.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".upgrade-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, also by a crash
        command.upgrade(alembic_config(url), "heads")
