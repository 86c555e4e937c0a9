"""Operator-edited YAML: hostile files are refused with file:line, quickly, without building them."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.yamlfile import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    MAX_YAML_BYTES,
    load_yaml,
    parse_yaml_text,
    validate_doc,
)

NAME = Path("config/intents/x.yaml")


def alias_bomb(levels: int, width: int = 9) -> str:
    """The "billion laughs" of YAML: each anchor repeats the previous one `width` times."""
    lines = ['a0: &a0 ["ha"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_an_alias_bomb_is_refused_at_the_line_of_the_alias_before_it_is_expanded():
    peak, started = _peak_rss_mb(), time.monotonic()
    # 9**11 values once expanded: without the bound, minutes of CPU and more memory than the machine has.
    with pytest.raises(ConfigError, match=r"^config/intents/x\.yaml:5: aliases \(\*a3\) expand to more than"):
        parse_yaml_text(alias_bomb(12), NAME)
    assert time.monotonic() - started < 5 and _peak_rss_mb() - peak < 50


def test_a_few_aliases_still_work():
    doc = parse_yaml_text("base: &b {rate: 8000}\nin: *b\nout: *b\n", NAME)
    assert doc.data["out"] == {"rate": 8000} and doc.lines[("out",)] == 3
    assert MAX_ALIAS_VALUES >= 1000


@pytest.mark.parametrize(
    "text,line",
    [
        ("a: " + "[" * 5_000 + "]" * 5_000 + "\n", 1),
        (
            "ok: 1\nb:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)) + "  " * 200 + "v\n",
            2 + MAX_DEPTH,
        ),
        ("a: &deep " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2) + "\nb: [[[[*deep]]]]\n", 2),
    ],
)
def test_deep_nesting_is_a_config_error_naming_the_line_not_a_recursion_error(text, line):
    with pytest.raises(ConfigError, match=rf"^config/intents/x\.yaml:{line}: nested more than {MAX_DEPTH}"):
        parse_yaml_text(text, NAME)


def test_a_file_of_megabytes_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("intents:\n" + "  - id: x\n    title: " + "x" * (MAX_YAML_BYTES + 10) + "\n")
    with pytest.raises(ConfigError, match=r"big\.yaml: \d+ bytes, more than"):
        load_yaml(big)
    with pytest.raises(ConfigError, match=r"characters, more than"):
        parse_yaml_text(big.read_text(), NAME)


def test_tabs_duplicate_keys_and_a_bom():
    with pytest.raises(ConfigError, match=r"x\.yaml:2: .*tab characters"):
        parse_yaml_text("intents:\n\t- id: x\n", NAME)
    with pytest.raises(ConfigError, match=r'x\.yaml:3: found duplicate key "id"'):
        parse_yaml_text("intents:\n  - id: a\n    id: b\n", NAME)
    assert parse_yaml_text("\ufeffintents: []\n", NAME).data == {"intents": []}


def test_validate_doc_names_file_line_and_key_under_a_heading(tmp_path):
    from pydantic import BaseModel, ConfigDict

    class Item(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        count: int

    class File(BaseModel):
        items: list[Item]

    path = tmp_path / "things.yaml"
    path.write_text("items:\n  - name: a\n    count: 1\n  - name: b\n    count: many\n    colour: red\n")
    doc = load_yaml(path)
    with pytest.raises(ConfigError) as err:
        validate_doc(File, doc, heading="invalid things file")
    lines = str(err.value).splitlines()
    assert lines[0] == "invalid things file:"
    assert any(f"{path}:5: items[1].count" in line and "'many'" in line for line in lines)
    assert any(f"{path}:6: items[1].colour: unknown key" in line for line in lines)
    assert validate_doc(File, doc, data={"items": []}).items == []  # data drawn from the file
    with pytest.raises(ConfigError) as bare:
        validate_doc(Item, doc, data={"name": "x"})
    assert not str(bare.value).startswith(" ") and "count: required key is missing" in str(bare.value)
