"""Audit log retention: old entries purged by `hotline calls purge` and the service, on a real SQLite file."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from tests.console.helpers import add_operator, audit_rows


def _entries_aged(settings, days_ago: list[float]) -> None:
    """One audit entry per age (days), written through audit.record and then back-dated."""
    from sqlalchemy import update

    from console.data import audit
    from console.data.times import utcnow
    from console.models import AuditEntry
    from core.db import engine_for, session_factory, transaction

    factory = session_factory(engine_for(settings))
    operator = add_operator(settings, "lan", "admin")
    now = utcnow()
    for days in days_ago:
        audit.record(factory, operator, "show_number", f"call:{int(days)}", "", "10.0.0.1")
    with transaction(factory) as s:
        for days in days_ago:
            s.execute(
                update(AuditEntry)
                .where(AuditEntry.target == f"call:{int(days)}")
                .values(at=now - dt.timedelta(days=days))
            )


def test_purge_deletes_only_entries_older_than_the_retention(console_settings):
    from console.data import audit
    from core.db import engine_for, session_factory

    assert (
        console_settings.database_url.startswith("sqlite:///")
        and console_settings.privacy.audit_retention_days == 730
    )
    _entries_aged(console_settings, [0, 10, 729, 731, 1000])
    factory = session_factory(engine_for(console_settings))
    assert audit.purge(factory, days=730) == 2
    assert sorted(e.target for e in audit_rows(console_settings)) == ["call:0", "call:10", "call:729"]
    assert audit.purge(factory, days=730) == 0  # idempotent
    # The operator's account is untouched, and what remains is still shown on the audit page.
    assert [v.target for v in audit.recent(factory)] == ["call:0", "call:10", "call:729"]


def test_calls_purge_command_applies_the_audit_retention(console_settings, monkeypatch):
    from hotline.cli import app

    _entries_aged(console_settings, [5, 40, 400])
    monkeypatch.setenv("HOTLINE_PRIVACY__AUDIT_RETENTION_DAYS", "30")
    r = CliRunner().invoke(app, ["calls", "purge"])
    assert r.exit_code == 0, r.output
    assert "audit_entries=2" in r.output
    assert [e.target for e in audit_rows(console_settings)] == ["call:5"]


def test_service_retention_pass_purges_the_audit_log(console_settings):
    from hotline.service import purge_expired

    _entries_aged(console_settings, [1, 800])
    counts = purge_expired(console_settings)  # the shipped setting: 730 days
    assert counts["audit_entries"] == 1 and counts["calls"] == 0
    assert [e.target for e in audit_rows(console_settings)] == ["call:1"]


@pytest.mark.parametrize(
    "value, expected", [("0", "greater than or equal to 1"), ("hai-nam", "valid integer")]
)
def test_bad_audit_retention_names_file_line_and_key(tmp_path, value, expected):
    from core.errors import ConfigError
    from hotline.settings import load_settings

    config = tmp_path / "config" / "hotline.yaml"
    config.parent.mkdir()
    config.write_text(f"privacy:\n  recording_retention_days: 90\n  audit_retention_days: {value}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config, env={})
    message = str(info.value)
    assert str(config) in message and ":3:" in message and "privacy.audit_retention_days" in message
    assert expected in message.lower()
