from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from hotline.settings import load_settings
from tests.conftest import ROOT

CONFIG = ROOT / "config" / "hotline.yaml"


def test_shipped_config_loads_and_is_frozen():
    s = load_settings(CONFIG, env={})
    assert s.voice.asr.engine == "vietasr"
    assert s.web.port == 8080
    assert s.root == ROOT
    with pytest.raises(ValidationError):
        s.web.port = 1  # type: ignore[misc]


def test_env_overrides_nested_keys_and_parses_booleans():
    s = load_settings(
        CONFIG, env={"HOTLINE_WEB__PORT": "9001", "HOTLINE_VOICE__TTS__CACHE": "false", "OTHER": "x"}
    )
    assert s.web.port == 9001
    assert s.voice.tts.cache is False


def test_relative_paths_resolve_against_project_root():
    s = load_settings(CONFIG, env={})
    assert s.data_dir == ROOT / "var"
    assert s.path("/abs/x").as_posix() == "/abs/x"
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("var/hotline.db")


def _write(tmp_path, text):
    d = tmp_path / "config"
    d.mkdir()
    f = d / "hotline.yaml"
    f.write_text(text, encoding="utf-8")
    return f


@pytest.mark.parametrize(
    "text, expected",
    [
        ("web:\n  port: eighty\n", [":2:", "web.port", "valid integer", "'eighty'"]),
        ("web:\n  prot: 80\n", [":2:", "web.prot", "unknown key"]),
        ("voice:\n  asr:\n    workers: 0\n", [":3:", "voice.asr.workers", "greater than or equal to 1"]),
        ("web:\n  port: 1\n  port: 2\n", [":3:", "duplicate"]),
        ("web:\n\tport: 1\n", [":2:", "tab"]),
        ("- a\n- b\n", [":1:", "mapping"]),
        ("logging:\n  level: LOUD\n", [":2:", "logging.level", "'LOUD'"]),
        ("web:\n  port: 80\n  public_url: tongdai.example\n", [":3:", "web.public_url", "https://"]),
        ("locale:\n  time_zone: Asia/Hanoi_City\n", [":2:", "locale.time_zone", "Asia/Ho_Chi_Minh"]),
        (
            "ivr:\n  studio:\n    target_lufs: -5\n",
            [":3:", "ivr.studio.target_lufs", "less than or equal to -12"],
        ),
    ],
)
def test_bad_config_names_file_line_and_key(tmp_path, text, expected):
    f = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(f, env={})
    message = str(info.value)
    assert str(f) in message
    for part in expected:
        assert part.lower() in message.lower(), message


def test_bom_and_empty_file_are_fine(tmp_path):
    f = _write(tmp_path, "\ufeffweb:\n  port: 8123\n")
    assert load_settings(f, env={}).web.port == 8123
    f.write_text("", encoding="utf-8")
    assert load_settings(f, env={}).web.port == 8080


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_cli_reports_bad_config_without_traceback(tmp_path):
    import subprocess
    import sys

    f = _write(tmp_path, "web:\n  port: [1, 2]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "hotline", "--config", str(f), "config", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{f}:2: web.port" in proc.stderr


def test_loading_settings_loads_no_machinery():
    """Each area's settings live with the area; reading them loads no state machine, engine or Asterisk."""
    import subprocess
    import sys

    code = (
        "import sys, hotline.settings as s; s.load_settings(); "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('core','voice','intents','asterisk','ivr','broadcast','sip','console','web','hotline'))))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    out = run.stdout.split()
    assert "hotline.settings" in out and "ivr.settings" in out and "asterisk.settings" in out
    loaded = [m for m in out if not (m.endswith(".settings") or m.count(".") == 0 or m.startswith("core."))]
    # Dial strings, trunks, the workers' reconnect timing and the duty rota's hours are checked while
    # loading: small pure modules (the rota's holiday calendar is loaded only when the hotline starts).
    assert loaded == ["asterisk.dial", "asterisk.trunks", "asterisk.workers", "ivr.duty"], loaded


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "mysql://hotline:s3cret-pw@db.tinh/hotline",
            [":3:", "database.url", "postgresql+psycopg://", "'mysql'"],
        ),
        ("postgresql+psycopg://hotline:s3cret-pw@/hotline", [":3:", "database.url", "names its host"]),
        ("sqlite://var/hotline.db", [":3:", "database.url", "three slashes"]),
    ],
)
def test_a_wrong_database_url_names_the_line_and_never_shows_its_password(tmp_path, url, expected):
    f = _write(tmp_path, f"database:\n  echo: false\n  url: {url}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(f, env={})
    message = str(info.value)
    for part in expected:
        assert part in message, message
    assert "s3cret-pw" not in message


def test_postgresql_urls_use_the_installed_driver():
    for given in ("postgresql://h:pw@10.0.0.5:5432/hotline", "postgres://h:pw@10.0.0.5:5432/hotline"):
        s = load_settings(CONFIG, env={"HOTLINE_DATABASE__URL": given})
        assert s.database_url == "postgresql+psycopg://h:pw@10.0.0.5:5432/hotline"
    s = load_settings(CONFIG, env={"HOTLINE_DATABASE__URL": "postgresql+psycopg://h:pw@db/hotline"})
    assert s.database_url == "postgresql+psycopg://h:pw@db/hotline" and s.database.pool_size == 5
