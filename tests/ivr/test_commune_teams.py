"""The directory of commune digital technology teams (`ivr.commune_teams`): what loads, what is refused."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigError
from hotline.settings import load_settings
from ivr.services import flow_config

from ..conftest import ROOT

CONFIG = ROOT / "config" / "hotline.yaml"
VNPT = {"name": "vnpt", "kind": "register", "host": "203.0.113.10", "username": "u",
        "numbers": ["02383599999"]}  # fmt: skip
ANH_SON, DO_LUONG = 17329, 17662


def _env(teams: list) -> dict[str, str]:
    return {
        "HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([VNPT]),
        "HOTLINE_IVR__ASTERISK__DIAL_OUT": json.dumps(
            {"trunk": "vnpt", "allowlist": ["0912000111", "0912000222", "0987654321"]}
        ),
        "HOTLINE_IVR__COMMUNE_TEAMS": json.dumps(teams),
    }


def test_shipped_config_has_no_teams():
    settings = load_settings(CONFIG, env={})
    assert settings.ivr.commune_teams == () and flow_config(settings).teams == {}


def test_teams_load_with_dialable_targets_keyed_by_the_radio_codes():
    teams = [
        {"commune": ANH_SON, "ring": ["0912000111", "0912000222"]},
        {"commune": str(DO_LUONG), "ring": ["PJSIP/operator"]},  # a code in quotes is a code too
    ]
    settings = load_settings(CONFIG, env=_env(teams))
    anh_son, do_luong = settings.ivr.commune_teams
    assert anh_son.ring == ("PJSIP/0912000111@trunk-vnpt", "PJSIP/0912000222@trunk-vnpt")
    assert do_luong.commune == DO_LUONG
    assert flow_config(settings).teams == {
        "17329": "PJSIP/0912000111@trunk-vnpt&PJSIP/0912000222@trunk-vnpt",
        "17662": "PJSIP/operator",
    }


@pytest.mark.parametrize(
    ("teams", "why"),
    [
        (
            [{"commune": 99999, "ring": ["0912000111"]}],
            r"ivr.commune_teams\[0\].commune: 99999 is not the code of a commune or ward of Nghệ An",
        ),
        (
            [{"commune": "Anh Sơn", "ring": ["0912000111"]}],
            r"ivr.commune_teams\[0\].commune: .*valid integer",
        ),
        (
            [{"commune": ANH_SON, "ring": ["0977000111"]}],
            r"ivr.commune_teams\[0\].ring: .*0977000111 is not in ivr.asterisk.dial_out.allowlist",
        ),
        ([{"commune": ANH_SON, "ring": [912000111]}], r"ivr.commune_teams\[0\].ring: .*in quotes"),
        ([{"commune": ANH_SON, "ring": []}], r"ivr.commune_teams\[0\].ring: .*at least 1"),
        (
            [{"commune": ANH_SON, "ring": ["0912000111"]}, {"commune": ANH_SON, "ring": ["0912000222"]}],
            r"ivr.commune_teams\[1\].commune: 17329 is listed twice",
        ),
    ],  # fmt: skip
)
def test_a_bad_team_is_refused_naming_its_key(teams, why):
    with pytest.raises(ConfigError, match=why):
        load_settings(CONFIG, env=_env(teams))


def test_a_team_error_in_the_file_points_at_its_line(tmp_path):
    bad = tmp_path / "hotline.yaml"
    bad.write_text(
        "ivr:\n"
        "  commune_teams:\n"
        "    - commune: 17329\n"
        "      ring: [PJSIP/operator]\n"
        "    - commune: 12345\n"
        "      ring: [PJSIP/operator]\n"
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"hotline.yaml:5: ivr.commune_teams\[1\].commune: 12345"):
        load_settings(bad, env={})


def test_what_callers_hear_when_a_team_rings_is_known_ahead_to_be_rendered_at_start():
    from types import SimpleNamespace

    from ivr import flow as F
    from ivr.services import team_sentences

    settings = load_settings(CONFIG, env=_env([{"commune": ANH_SON, "ring": ["0912000111"]}]))
    prompts = SimpleNamespace(texts=SimpleNamespace(templates=F.Texts()))
    named = team_sentences(settings, prompts, lambda code: (code, "Xã Anh Sơn"))
    assert named == [F.Texts().team_connect.format(commune="xã Anh Sơn")]
    # Without the commune list: by code, as the call would say it.
    assert "mã số một, bảy, ba, hai, chín" in team_sentences(settings, prompts, None)[0]
