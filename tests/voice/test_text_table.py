"""The editable reading table: shipped content, validation errors with file and line, caching."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import ConfigError
from voice.text import normalize_for_speech
from voice.text.table import DEFAULT_PATH, REQUIRED_LETTERS, load_table, table_from_settings

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """\
letters:
{letters}
abbreviations:
  XYZ: ích xì i dài dét
"""


def _letters_block(skip: str = "") -> str:
    return "\n".join(f"  {c}: {c.lower()}" for c in sorted(REQUIRED_LETTERS) if c != skip)


def _write(tmp_path: Path, text: str, name: str = "abbr.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_table_is_the_configured_one_and_complete():
    assert DEFAULT_PATH == ROOT / "config" / "abbreviations.yaml"
    table = load_table()
    assert len(table.abbreviations) >= 60
    assert REQUIRED_LETTERS <= set(table.letters)
    for key in (
        "UBND",
        "HĐND",
        "CNTT",
        "DTI",
        "TTHC",
        "CCCD",
        "VNeID",
        "BHXH",
        "BHYT",
        "SMEdx",
        "CĐS",
        "THCS",
        "THPT",
        "MTTQ",
        "VNPT",
        "QR",
        "OTP",
        "PIN",
        "SIM",
    ):
        assert key in table.abbreviations, key
    # Spoken forms are words: no digits, no hyphens for the speech engine to read out.
    for words in list(table.abbreviations.values()) + list(table.letters.values()):
        assert not any(c.isdigit() for c in words) and "-" not in words


def test_settings_key_names_the_table(settings):
    assert table_from_settings(settings) is load_table(ROOT / "config" / "abbreviations.yaml")


def test_custom_table_file_is_used(tmp_path):
    path = _write(tmp_path, MINIMAL.format(letters=_letters_block()))
    assert normalize_for_speech("XYZ và UBND", path) == "ích xì i dài dét và u b n d"


def test_table_is_cached_until_the_file_changes(tmp_path):
    path = _write(tmp_path, MINIMAL.format(letters=_letters_block()))
    first = load_table(path)
    assert load_table(path) is first
    path.write_text(
        MINIMAL.format(letters=_letters_block()).replace("ích xì i dài dét", "khác hẳn"), encoding="utf-8"
    )
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    second = load_table(path)
    assert second is not first
    assert second.abbreviations["XYZ"] == "khác hẳn"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("letters:\n{letters}\nabbreviations:\n  UBND: 5\n", None, "abbreviations"),
        ("letters:\n{letters}\nabbreviations:\n  UBND: ủy ban\n  UBND: khác\n", "  UBND: khác", "duplicate"),
        ("letters:\n{letters}\nabbreviations:\n\tUBND: ủy ban\n", None, "tab"),
        ("letters:\n{letters}\nabbreviation:\n  UBND: ủy ban\n", None, "unknown key"),
        ("letters:\n{letters}\nabbreviations:\n  UBND: ''\n", None, "empty"),
        ("letters:\n{letters}\nabbreviations:\n  UBND: ủy ban 5\n", None, "digits"),
        ("letters:\n{letters}\nsymbols:\n  ab: và\n", None, "symbols"),
        ("letters:\n{missing_q}\n", "letters:", "letters missing: Q"),
        ("- just\n- a list\n", None, "mapping"),
    ],
)
def test_bad_table_names_file_line_and_key(tmp_path, text, line, fragment):
    body = text.format(letters=_letters_block(), missing_q=_letters_block(skip="Q"))
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_table(path)
    message = str(info.value)
    assert str(path) in message
    assert fragment.lower() in message.lower()
    if line is not None:
        number = body.splitlines().index(line) + 1
        assert f"{path}:{number}" in message


def test_bad_value_points_at_its_line(tmp_path):
    body = "letters:\n" + _letters_block() + "\nabbreviations:\n  XYZ: đúng\n  UBND: [1, 2]\n"
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_table(path)
    line = body.splitlines().index("  UBND: [1, 2]") + 1
    assert f"{path}:{line}: abbreviations.UBND" in str(info.value)


def test_missing_table_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_table(tmp_path / "nope.yaml")


def test_extra_abbreviations_do_not_change_the_shared_table():
    before = dict(load_table().abbreviations)
    assert normalize_for_speech("ABCX", {"ABCX": "a bê xê ích"}) == "a bê xê ích"
    assert dict(load_table().abbreviations) == before
