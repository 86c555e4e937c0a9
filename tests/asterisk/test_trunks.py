"""Trunk configuration: validation with file:line errors, what is dialable, the rendered Asterisk config."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asterisk.dial import check_dialable, expand_targets
from asterisk.render import Layout, render_config
from asterisk.secrets import AsteriskSecrets, load_or_create, set_trunk_password
from asterisk.settings import AsteriskSettings
from asterisk.trunk_config import trunk_values
from asterisk.trunks import did_forms
from asterisk.workers import WorkersSettings, workers_values
from core.errors import ConfigError
from hotline.settings import load_settings
from voice.audio import alaw_decode, alaw_encode

from ..conftest import ROOT

CONFIG = ROOT / "config" / "hotline.yaml"
VNPT = {"name": "vnpt", "kind": "register", "host": "203.0.113.10", "username": "02383599999",
        "numbers": ["02383599999"]}  # fmt: skip
VIETTEL = {"name": "viettel", "kind": "ip", "host": "sip.example.vn", "match": ["198.51.100.0/29"],
           "numbers": ["02383888888"], "codecs": ["alaw"], "max_calls": 4}  # fmt: skip
GOIP = {"name": "goip-xa", "kind": "gateway", "numbers": ["02383777777"]}


def _env(**over: object) -> dict[str, str]:
    env = {"HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([VNPT, VIETTEL, GOIP])}
    env.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in over.items()})
    return env


def test_three_kinds_of_trunk_load_with_their_defaults():
    cfg = load_settings(CONFIG, env=_env()).ivr.asterisk
    vnpt, viettel, goip = cfg.trunks
    assert vnpt.addresses == ("203.0.113.10/32",) and vnpt.codecs == ("alaw", "ulaw") and vnpt.max_calls == 30
    assert viettel.addresses == ("198.51.100.0/29",)
    assert goip.endpoint == "goip-xa" and goip.auth_user == "goip-xa" and vnpt.endpoint == "trunk-vnpt"
    assert did_forms("02383599999") == ("02383599999", "842383599999", "+842383599999")


@pytest.mark.parametrize(
    ("trunk", "message"),
    [
        ({**VNPT, "username": ""}, "needs the username"),
        ({**VNPT, "host": ""}, "needs the carrier's host"),
        ({**VIETTEL, "match": []}, "list the carrier's signalling addresses"),
        ({**GOIP, "host": "10.0.0.5"}, "leave host empty"),
        ({**VNPT, "numbers": []}, "at least 1"),
        ({**VNPT, "numbers": ["hotline"]}, "digits"),
        ({**VNPT, "match": ["not-an-address"]}, "not an IP address"),
        ({**VNPT, "name": "VNPT 1"}, "lower-case"),
        ({**VNPT, "codecs": ["alaw", "alaw"]}, "each once"),
        ({**GOIP, "name": "operator9"}, "taken by the hotline's own phones"),
    ],
)
def test_a_bad_trunk_is_refused_with_a_reason(trunk, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(CONFIG, env={"HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([trunk])})


def test_trunks_must_not_share_numbers_or_source_addresses():
    twin = {**VNPT, "name": "vnpt2", "username": "x", "numbers": ["842383599999"]}
    with pytest.raises(ConfigError, match="number 842383599999 is on trunks vnpt and vnpt2"):
        load_settings(CONFIG, env={"HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([VNPT, twin])})
    twin = {**VNPT, "name": "vnpt2", "numbers": ["02383599990"], "match": ["203.0.113.0/24"]}
    with pytest.raises(ConfigError, match="both take calls from 203.0.113.0/24"):
        load_settings(CONFIG, env={"HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([VNPT, twin])})


def test_errors_in_the_yaml_name_file_line_and_key(tmp_path):
    bad = tmp_path / "hotline.yaml"
    bad.write_text(
        "ivr:\n  asterisk:\n    trunks:\n      - name: vnpt\n        kind: register\n"
        "        host: 203.0.113.10\n        username: u\n        numbers: ['02383599999']\n"
        "        transport: sctp\n"
    )
    with pytest.raises(ConfigError, match=r"hotline.yaml:9: ivr.asterisk.trunks\[0\].transport"):
        load_settings(bad, env={})
    bad.write_text(
        "ivr:\n  asterisk:\n    dial_out:\n      trunk: vnpt\n      allowlist: ['0987654321']\n"
        "  flow:\n    operator_endpoint: '0912000000'\n"
    )
    with pytest.raises(ConfigError, match=r"hotline.yaml:7: ivr.flow.operator_endpoint: .*0912000000") as err:
        load_settings(bad, env={"HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([VNPT])})
    assert "allowlist" in str(err.value) and "(got" not in str(err.value)


def test_only_allowlisted_numbers_through_a_trunk_can_ever_be_rung():
    env = _env(
        HOTLINE_IVR__ASTERISK__DIAL_OUT={"trunk": "vnpt", "allowlist": ["0987654321"]},
        HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT="PJSIP/operator&0987654321",
    )
    flow = load_settings(CONFIG, env=env).ivr.flow
    assert flow.operator_endpoint == "PJSIP/operator&PJSIP/0987654321@trunk-vnpt"
    for spec, why in [
        ("0987654322", "not in ivr.asterisk.dial_out.allowlist"),
        ("PJSIP/0987654322@trunk-vnpt", "not in ivr.asterisk.dial_out.allowlist"),
        ("PJSIP/0987654321@trunk-nowhere", "is not a trunk"),
        ("PJSIP/trunk-vnpt", "rings a trunk without a number"),
        ("Local/0987654321@hotline-in", "only PJSIP/ phones"),
    ]:
        with pytest.raises(ConfigError, match=why):
            load_settings(CONFIG, env={**env, "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": spec})
    with pytest.raises(ConfigError, match="dial_out.trunk is empty"):
        load_settings(CONFIG, env={**_env(), "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": "0987654321"})
    with pytest.raises(ConfigError, match="dial_out.trunk: 'mobifone' is not one of the trunks"):
        load_settings(CONFIG, env=_env(HOTLINE_IVR__ASTERISK__DIAL_OUT={"trunk": "mobifone"}))
    with pytest.raises(ConfigError, match="national form"):
        load_settings(CONFIG, env=_env(HOTLINE_IVR__ASTERISK__DIAL_OUT={"trunk": "vnpt", "allowlist": ["8"]}))
    # The same rule at run time, for whatever reaches the transfer.
    check_dialable("PJSIP/operator2", (), ("trunk-vnpt",))
    with pytest.raises(ValueError):
        check_dialable("PJSIP/0912@trunk-vnpt", ("0987654321",), ("trunk-vnpt",))
    assert expand_targets("", "trunk-vnpt") == ""


def _rendered(tmp_path, cfg: AsteriskSettings, passwords: dict[str, str]) -> tuple[str, str]:
    values = {
        "bind": "127.0.0.1", "sip_port": 5060, "http_port": 8088, "http_bind": "127.0.0.1", "http_tls": None,
        "rtp_start": 10000, "rtp_end": 10100,
        "ari_user": "hotline", "ari_password": "a", "caller_password": "c", "operators": [],
        "operator_dial": "PJSIP/operator", "prompt_pin": "123456", "app_name": "hotline", "extension": "1080",
        "prompt_extension": "1089", "operator_ring_seconds": 20, "message_max_seconds": 120,
        "modules_dir": "/usr/lib/asterisk/modules", "system_name": "hotline",
        **trunk_values(cfg, AsteriskSecrets("a", "c", "1", ("o",), passwords)),
        **workers_values(WorkersSettings(), "w"),
    }  # fmt: skip
    layout = Layout(root=tmp_path, inst="/i")
    render_config(ROOT / "config" / "asterisk", layout, values)
    etc = tmp_path / "i" / "etc"
    return (etc / "pjsip.conf").read_text(), (etc / "extensions.conf").read_text()


def _section(text: str, header: str, kind: str) -> list[str]:
    """The lines of the section `[header]` whose `type =` is `kind` (trunk objects share their name)."""
    for block in text.split("\n[")[1:]:
        lines = block.splitlines()
        if lines[0].split("]")[0] == header.strip("[]") and (
            f"type = {kind}" in lines or (kind == "endpoint" and lines[0].endswith("(hotline-endpoint)"))
        ):
            return lines
    raise AssertionError(f"no {kind} section {header}")


def test_rendered_config_registers_identifies_and_routes_only_hotline_numbers(tmp_path):
    cfg = load_settings(
        CONFIG, env=_env(HOTLINE_IVR__ASTERISK__NAT={"external_address": "203.0.113.77",
                                                     "local_networks": ["192.168.1.0/24"]})
    ).ivr.asterisk  # fmt: skip
    pjsip, ext = _rendered(tmp_path, cfg, {"vnpt": "carrier-pw", "goip-xa": "gw-pw"})
    reg = _section(pjsip, "trunk-vnpt", "registration")
    assert "server_uri = sip:203.0.113.10:5060" in reg and "line = yes" in reg
    assert "endpoint = trunk-vnpt" in reg
    assert "contact_user = 02383599999" in reg and "outbound_auth = trunk-vnpt-auth" in reg
    assert "password = carrier-pw" in _section(pjsip, "trunk-vnpt-auth", "auth")
    vnpt = _section(pjsip, "trunk-vnpt", "endpoint")
    assert "context = from-trunk-vnpt" in vnpt and "allow = alaw,ulaw" in vnpt
    assert "deny = 0.0.0.0/0.0.0.0" in vnpt and "permit = 203.0.113.10/32" in vnpt
    assert "match = 203.0.113.10/32" in _section(pjsip, "trunk-vnpt", "identify")
    viettel = _section(pjsip, "trunk-viettel", "endpoint")
    assert "allow = alaw" in viettel and not any(line.startswith("outbound_auth") for line in viettel)
    assert "match = 198.51.100.0/29" in _section(pjsip, "trunk-viettel", "identify")
    goip = _section(pjsip, "goip-xa", "endpoint")
    assert "identify_by = username,ip" in goip and "auth = goip-xa-auth" in goip
    assert "max_contacts = 1" in _section(pjsip, "goip-xa", "aor")
    assert "external_media_address = 203.0.113.77" in pjsip and "local_net = 192.168.1.0/24" in pjsip
    assert "allow_transfer = no" in pjsip  # no REFER to elsewhere, from anyone
    # Each trunk's context: its numbers in every form a carrier uses, then the hotline; nothing else.
    block = ext.split("[from-trunk-vnpt]", 1)[1].split("\n[", 1)[0]
    for form in ("02383599999", "842383599999", "+842383599999"):
        assert f"exten => {form},1,Gosub(trunk-admit,s,1(vnpt,30))" in block
    assert block.count("exten =>") == 3 and "Goto(hotline-in,1080,1)" in block and "Dial(" not in block
    assert "Gosub(trunk-admit,s,1(viettel,4))" in ext and "[from-goip-xa]" in ext
    assert "Dial(" not in ext.split("[trunk-admit]", 1)[1]
    assert "lines_busy,noanswer" in ext


def test_a_register_trunk_without_its_password_is_not_started(tmp_path):
    from asterisk.provision import AsteriskError

    cfg = load_settings(CONFIG, env=_env()).ivr.asterisk
    with pytest.raises(AsteriskError, match="hotline asterisk trunk-password vnpt"):
        trunk_values(cfg, AsteriskSecrets("a", "c", "1", ("o",), {}))


def test_trunk_passwords_live_in_the_secrets_file(tmp_path):
    path = tmp_path / "secrets.json"
    first = load_or_create(path)
    generated = set_trunk_password(path, "goip-xa")
    set_trunk_password(path, "vnpt", "from-the-carrier")
    again = load_or_create(path)
    assert again.trunk_passwords == {"goip-xa": generated, "vnpt": "from-the-carrier"}
    assert len(generated) >= 32 and again.ari_password == first.ari_password
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(ConfigError):
        set_trunk_password(path, "vnpt", "with space")


def test_alaw_codec_is_g711_exact():
    codes = bytes(range(256))
    pcm = alaw_decode(codes)
    assert alaw_encode(pcm) == codes  # every code word survives a round trip
    assert pcm[0xD5] == 8 and pcm[0x55] == -8  # the two smallest steps around zero (G.711 table)
    assert pcm.max() == 32256 and pcm.min() == -32256
    ramp = np.arange(-32768, 32768, 7, dtype=np.int16)
    err = np.abs(alaw_decode(alaw_encode(ramp)).astype(int) - ramp)
    assert (err <= np.maximum(16, np.abs(ramp.astype(int)) // 16)).all()  # within half a step


def test_registration_states_are_read_from_the_cli_table():
    from asterisk.trunk_status import registrations

    out = """
 <Registration/ServerURI..............................>  <Auth....................>  <Status.......>
==========================================================================================

 trunk-vnpt/sip:127.0.0.2:48876                          trunk-vnpt-auth             Registered  (exp. 112s)
 trunk-mobi/sip:203.0.113.9:5060                         trunk-mobi-auth             Rejected

Objects found: 2
"""
    assert registrations(out) == {"trunk-vnpt": "Registered", "trunk-mobi": "Rejected"}
    assert registrations("No objects found.") == {}


def test_tcp_and_tls_transports_are_rendered_for_trunks_that_use_them(tmp_path):
    tcp = {**VNPT, "transport": "tcp"}
    env = {"HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([tcp]), "HOTLINE_IVR__ASTERISK__SIP_TCP_PORT": "5062"}
    cfg = load_settings(CONFIG, env=env).ivr.asterisk
    pjsip, _ = _rendered(tmp_path, cfg, {"vnpt": "pw"})
    assert "[transport-tcp](transport-nat)" in pjsip and "bind = 127.0.0.1:5062" in pjsip
    assert "transport = transport-tcp" in _section(pjsip, "trunk-vnpt", "endpoint")
    assert "contact = sip:203.0.113.10:5060;transport=tcp" in _section(pjsip, "trunk-vnpt", "aor")
    assert "[transport-tls]" not in pjsip
    with pytest.raises(ConfigError, match="sip_tcp_port: trunk vnpt uses TCP"):
        load_settings(CONFIG, env={"HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([tcp])})
    with pytest.raises(ConfigError, match="sip_tls_cert_file"):
        load_settings(CONFIG, env={"HOTLINE_IVR__ASTERISK__SIP_TLS_PORT": "5061"})


def test_trunk_password_command_stores_the_carriers_password_without_echo(tmp_path):
    from typer.testing import CliRunner

    from hotline.cli import app

    env = {
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([VNPT, GOIP]),
    }
    runner = CliRunner()
    r = runner.invoke(app, ["asterisk", "trunk-password", "vnpt"], input="carrier-secret\n", env=env)
    assert r.exit_code == 0, r.output
    assert "carrier-secret" not in r.output
    r = runner.invoke(app, ["asterisk", "trunk-password", "goip-xa", "--generate"], env=env)
    assert r.exit_code == 0, r.output
    stored = load_or_create(tmp_path / "var" / "asterisk" / "secrets.json").trunk_passwords
    assert stored["vnpt"] == "carrier-secret" and stored["goip-xa"] in r.output
    r = runner.invoke(app, ["asterisk", "trunk-password", "mobifone"], input="x\n", env=env)
    assert r.exit_code != 0 and "no trunk named mobifone" in str(r.exception)
