"""Blanks of sentence templates read as what fills them: every blank the hotline uses has a description."""

from __future__ import annotations

from dataclasses import fields

import yaml

from console.template_blanks import BLANK_VI, UNKNOWN_BLANK_VI, blank_vi, blanks, template_vi
from ivr.flow.config import Texts

from ..conftest import ROOT


def shipped_templates() -> dict[str, str]:
    defaults = {f.name: str(f.default) for f in fields(Texts)}
    configured = yaml.safe_load((ROOT / "config" / "prompts.yaml").read_text(encoding="utf-8"))["templates"]
    return defaults | {str(k): str(v) for k, v in configured.items()}


def test_every_blank_of_every_template_has_a_vietnamese_description():
    for key, text in shipped_templates().items():
        for name in blanks(text):
            assert blank_vi(key, name) != UNKNOWN_BLANK_VI, (key, name)
        shown = template_vi(key, text)
        assert "{" not in shown and "}" not in shown, shown
    assert all(v and v == v.lower() for v in BLANK_VI.values())


def test_blanks_read_as_what_the_hotline_fills_in():
    assert template_vi("ticket_status", "Phiếu số {digits}: {status}.") == (
        "Phiếu số «số phiếu đã bấm»: «trạng thái phiếu»."
    )
    assert template_vi("dossier_found", "Hồ sơ {title}: {status}.") == (
        "Hồ sơ «tên thủ tục của hồ sơ»: «trạng thái hồ sơ»."
    )
    assert template_vi("later", "{commune} {whatever}") == f"«tên xã, phường» «{UNKNOWN_BLANK_VI}»"
    assert template_vi("broken", "Số {digits") == "Số {digits"  # shown as written, never a crash
