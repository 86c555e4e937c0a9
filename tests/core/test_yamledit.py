"""`set_scalars`: one value changed on its own line, comments and every other line kept."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.yamledit import set_scalars, yaml_scalar
from core.yamlfile import load_yaml

TEXT = """\
# settings
voice:
  tts:
    engine: espeak           # espeak | piper
    piper:
      model: null            # a voice
    list: [a,
           b]
  name: "x"
"""


def test_values_change_in_place_and_nothing_else(tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text(TEXT, encoding="utf-8")
    changed = set_scalars(
        path,
        {
            ("voice", "tts", "piper", "model"): "var/cache/voices/a b.onnx",
            ("voice", "tts", "engine"): "piper",
        },
    )
    assert changed == [
        "h.yaml:6: voice.tts.piper.model: var/cache/voices/a b.onnx",
        "h.yaml:4: voice.tts.engine: piper",
    ]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[3] == "    engine: piper            # espeak | piper"  # the comment stays in its column
    assert lines[5] == "      model: var/cache/voices/a b.onnx # a voice"
    assert [i for i, (a, b) in enumerate(zip(TEXT.splitlines(), lines, strict=True)) if a != b] == [3, 5]
    data = load_yaml(path).data
    assert data["voice"]["tts"]["piper"]["model"] == "var/cache/voices/a b.onnx"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("null", '"null"'),
        ("123", '"123"'),
        ("a: b", '"a: b"'),
        ("x#y", '"x#y"'),
        (None, "null"),
        (3, "3"),
        ("vi+f3", "vi+f3"),
        ("đường/tệp", '"đường/tệp"'),
    ],
)
def test_scalars_read_back_as_written(tmp_path, value, written):
    assert yaml_scalar(value) == written
    path = tmp_path / "v.yaml"
    path.write_text("k: 1  # c\n", encoding="utf-8")
    set_scalars(path, {("k",): value})
    assert load_yaml(path).data["k"] == value


def test_absent_or_multi_line_keys_are_refused_and_nothing_written(tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(ConfigError, match="voice.tts.rate: the key is not in the file"):
        set_scalars(path, {("voice", "tts", "engine"): "piper", ("voice", "tts", "rate"): 1.0})
    with pytest.raises(ConfigError, match=r"h.yaml:7: voice.tts.list: not a one-line value"):
        set_scalars(path, {("voice", "tts", "list"): "x"})
    assert path.read_text(encoding="utf-8") == TEXT
