from __future__ import annotations

import logging

import pytest

from core.masking import MaskingFilter, mask_personal


@pytest.mark.parametrize(
    "text, expected",
    [
        ("gọi từ 0912345678", "gọi từ *******678"),
        ("số CCCD 040095001234 nhé", "số CCCD *********234 nhé"),
        ("+84 912 345 678", "********678"),
        ("hồ sơ số 123", "hồ sơ số 123"),
        ("năm 2025, tổng đài 1900", "năm 2025, tổng đài 1900"),
        ("call hotline-1795582551.0 from 0912345678", "call hotline-1795582551.0 from *******678"),
    ],
)
def test_mask_personal(text, expected):
    assert mask_personal(text) == expected


def test_filter_masks_args_in_log_records(caplog):
    logger = logging.getLogger("test.mask")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("caller %s said %r", "0912345678", "xin chào")
    assert "0912345678" not in caplog.text and "*******678" in caplog.text


def _log_settings(tmp_path, monkeypatch):
    from hotline.settings import load_settings
    from tests.conftest import ROOT

    monkeypatch.setenv("HOTLINE_PATHS__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_LOGGING__JSON_FILE", str(tmp_path / "log" / "hotline.jsonl"))
    return load_settings(ROOT / "config" / "hotline.yaml")


@pytest.fixture
def logs(tmp_path, monkeypatch):
    """Starts our handlers on the root logger (console + JSON file); removes them afterwards.

    Started from the test itself: pytest gives each test phase a new captured stderr.
    """
    from hotline.logs import setup_logging

    settings = _log_settings(tmp_path, monkeypatch)
    root = logging.getLogger()
    level = root.level
    try:
        yield lambda: (setup_logging(settings), settings)[1], tmp_path / "log" / "hotline.jsonl"
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_hotline", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def test_a_traceback_is_masked_on_the_console_and_in_the_json_file(logs, capsys):
    import json

    start, json_file = logs
    start()
    try:
        raise ValueError("no ticket for caller 0912345678 (call back 0987654321)")
    except ValueError:
        logging.getLogger("test.traceback").exception("ticket failed")
    err = capsys.readouterr().err
    entry = json.loads(json_file.read_text(encoding="utf-8").splitlines()[-1])
    for text in (err, entry["exc"]):
        assert "ValueError: no ticket for caller *******678 (call back *******321)" in text
        assert "0912345678" not in text and "0987654321" not in text


def test_the_web_servers_own_log_goes_through_the_masking_handlers(logs, capsys):
    """uvicorn prints the traceback of a failed request; it must reach our masked handlers only."""
    import json

    from hotline.web_server import web_server_config
    from web.app import create_app

    start, json_file = logs
    settings = start()
    # Configures uvicorn's loggers as `hotline run` and `hotline serve` do.
    web_server_config(create_app(settings), settings)
    try:
        raise RuntimeError("lookup of 0912345678 failed")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    err = capsys.readouterr().err
    assert "0912345678" not in err and "lookup of *******678 failed" in err
    lines = [json.loads(line) for line in json_file.read_text(encoding="utf-8").splitlines()]
    assert any(e["logger"] == "uvicorn.error" and "*******678" in e.get("exc", "") for e in lines)
