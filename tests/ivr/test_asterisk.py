"""Asterisk provisioning, config and process control: pure helpers, then the real instance."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from asterisk.provision import DEFAULT_MIRROR, MARKER, fix_root, host_mirror, is_provisioned, read_marker
from tests.support import free_port

from .conftest import ROOT, free_rtp_range

# --- pure helpers ---------------------------------------------------------------------------------


def test_host_mirror_from_deb822_skips_security_and_third_party(tmp_path):
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\n"
        "Types: deb\nURIs: http://mirror.example.vn/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\n"
    )
    (parts / "nodesource.sources").write_text(
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n"
    )
    (parts / "old.list.disabled").write_text("deb http://other.example/debian sid main\n")
    assert host_mirror(tmp_path) == "http://mirror.example.vn/debian"


def test_host_mirror_from_one_line_sources(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb http://security.debian.org/ bookworm-security main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://ftp.vn.debian.org/debian bookworm main\n"
    )
    assert host_mirror(tmp_path) == "http://ftp.vn.debian.org/debian"


def test_host_mirror_falls_back_for_non_debian_hosts(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://archive.ubuntu.com/ubuntu noble main\n")
    assert host_mirror(tmp_path) == DEFAULT_MIRROR
    assert host_mirror(tmp_path / "missing") == DEFAULT_MIRROR


def test_root_without_marker_counts_as_unfinished(tmp_path):
    root = tmp_path / "root"
    (root / "usr/sbin").mkdir(parents=True)
    assert not is_provisioned(root)
    (root / MARKER).write_text(json.dumps({"packages": ["asterisk"]}))
    assert is_provisioned(root, ("asterisk",))
    assert not is_provisioned(root, ("asterisk", "asterisk-core-sounds-en-gsm"))  # new package: rebuild
    (root / MARKER).write_text("{broken")
    assert read_marker(root) is None and not is_provisioned(root)


def test_fix_root_points_resolver_at_loopback(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "resolv.conf").symlink_to("/run/systemd/resolve/stub-resolv.conf")
    fix_root(tmp_path)
    resolv = etc / "resolv.conf"
    assert not resolv.is_symlink()
    assert [line.split()[1] for line in resolv.read_text().splitlines() if line.startswith("nameserver")] == [
        "127.0.0.1"
    ]


FAKE_DEBOOTSTRAP = """#!/bin/sh
# stands in for debootstrap: $4 is the target directory; FAKE_FAIL=1 fails half-way
echo "$@" >> "$FAKE_LOG"
mkdir -p "$4/usr/sbin" "$4/etc"
if [ "$FAKE_FAIL" = 1 ]; then echo "E: Couldn't download packages" >&2; exit 1; fi
touch "$4/usr/sbin/asterisk"
"""


@pytest.fixture
def fake_debootstrap(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "debootstrap"
    exe.write_text(FAKE_DEBOOTSTRAP)
    exe.chmod(0o755)
    log = tmp_path / "debootstrap-calls.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    return log


def test_provision_redoes_a_half_built_root_and_then_reuses_it(tmp_path, fake_debootstrap):
    from asterisk.provision import provision

    root = tmp_path / "cache" / "asterisk-root"
    (root / "usr").mkdir(parents=True)
    (root / "leftover").write_text("from an interrupted run")
    assert provision(root, suite="sid", mirror="http://mirror.example/debian", packages=("asterisk",))
    assert (root / "usr/sbin/asterisk").exists() and not (root / "leftover").exists()
    assert read_marker(root)["mirror"] == "http://mirror.example/debian"
    assert "nameserver 127.0.0.1" in (root / "etc/resolv.conf").read_text()
    calls = fake_debootstrap.read_text().splitlines()
    assert calls == [f"--variant=minbase --include=asterisk sid {root}.partial http://mirror.example/debian"]
    assert not provision(root, packages=("asterisk",))  # marker present: nothing to do
    assert len(fake_debootstrap.read_text().splitlines()) == 1


def test_failed_debootstrap_leaves_no_root_that_looks_finished(tmp_path, fake_debootstrap, monkeypatch):
    from asterisk.provision import AsteriskError, provision

    monkeypatch.setenv("FAKE_FAIL", "1")
    root = tmp_path / "asterisk-root"
    with pytest.raises(AsteriskError, match="debootstrap failed") as info:
        provision(root, mirror="http://mirror.example/debian")
    assert "Couldn't download" in str(info.value)
    assert not root.exists() and not is_provisioned(root)
    monkeypatch.setenv("FAKE_FAIL", "0")
    assert provision(root, mirror="http://mirror.example/debian")  # the next run starts over cleanly
    assert is_provisioned(root)


from asterisk.secrets import AsteriskSecrets  # noqa: E402
from asterisk.settings import AsteriskSettings  # noqa: E402
from asterisk.trunk_config import trunk_values  # noqa: E402
from asterisk.workers import WorkersSettings, workers_values  # noqa: E402


def _values(**over):
    values = {
        "bind": "127.0.0.1",
        "sip_port": 5071,
        "http_bind": "127.0.0.1",
        "http_port": 8099,
        "http_tls": None,
        "rtp_start": 20000,
        "rtp_end": 20100,
        "ari_user": "hotline",
        "ari_password": "s3cret-ari",
        "caller_password": "s3cret-caller",
        "operators": [{"user": "operator", "password": "s3cret-op"}],
        "operator_dial": "PJSIP/operator",
        "prompt_pin": "123456",
        "app_name": "hotline",
        "system_name": "hotline",
        "extension": "1080",
        "prompt_extension": "1089",
        "operator_ring_seconds": 20,
        "message_max_seconds": 120,
        "modules_dir": "/usr/lib/x86_64-linux-gnu/asterisk/modules",
        **trunk_values(AsteriskSettings(), AsteriskSecrets("a", "c", "1", ("o",))),
        **workers_values(WorkersSettings(), "s3cret-worker"),
    }
    return {**values, **over}


def test_render_config_fills_every_template(tmp_path):
    from asterisk.render import TEMPLATES, Layout, render_config

    layout = Layout(root=tmp_path, inst="/srv/hotline/abc")
    written = render_config(ROOT / "config" / "asterisk", layout, _values())
    assert sorted(p.name for p in written) == sorted(TEMPLATES)
    etc = tmp_path / "srv/hotline/abc/etc"
    assert "bindaddr = 127.0.0.1" in (etc / "http.conf").read_text()
    assert "bindport = 8099" in (etc / "http.conf").read_text()
    pjsip = (etc / "pjsip.conf").read_text()
    assert "bind = 127.0.0.1:5071" in pjsip and "media_address = 127.0.0.1" in pjsip
    assert "bind_rtp_to_media_address = yes" in pjsip and "allow = ulaw,alaw" in pjsip
    assert "password = s3cret-ari" in (etc / "ari.conf").read_text()
    assert "rtpstart = 20000" in (etc / "rtp.conf").read_text()
    assert "noload => chan_iax2.so" in (etc / "modules.conf").read_text()
    ext = (etc / "extensions.conf").read_text()
    assert "Stasis(hotline)" in ext and "Stasis(hotline,prompt-admin)" in ext
    # The prompt extension is the operators' only (callers and trunks reach hotline-in), and the PIN is
    # checked by the application, which counts wrong PINs across calls: it is not in the dialplan.
    contexts = dict(re.findall(r"^\[([\w-]+)\]\n(.*?)(?=^\[|\Z)", ext, re.M | re.S))
    assert "exten => 1089," in contexts["hotline-operator"]
    assert "1089" not in contexts["hotline-in"] and ",Authenticate(" not in ext and "123456" not in ext
    assert "astetcdir => /srv/hotline/abc/etc" in (etc / "asterisk.conf").read_text()
    assert all(p.stat().st_mode & 0o077 == 0 for p in written)  # they hold passwords
    for sub in ("run", "log", "spool/messages", "lib", "sounds"):
        assert (tmp_path / "srv/hotline/abc" / sub).is_dir()


def test_render_config_has_one_endpoint_per_operator_seat_and_the_fallback_rings_all(tmp_path):
    from asterisk.render import Layout, render_config

    seats = [
        {"user": "operator", "password": "pw-1"},
        {"user": "operator2", "password": "pw-2"},
        {"user": "operator3", "password": "pw-3"},
    ]
    layout = Layout(root=tmp_path, inst="/i")
    render_config(
        ROOT / "config" / "asterisk",
        layout,
        _values(operators=seats, operator_dial="PJSIP/operator&PJSIP/operator2&PJSIP/operator3"),
    )
    pjsip = (tmp_path / "i/etc/pjsip.conf").read_text()
    sections = [line for line in pjsip.splitlines() if line.startswith("[")]
    for user, n in (("operator", 1), ("operator2", 2), ("operator3", 3)):
        assert f"[{user}](hotline-endpoint)" in sections and f"[{user}-auth]" in sections
        assert sections.count(f"[{user}]") == 1  # its aor
        block = pjsip.split(f"[{user}-auth]", 1)[1].split("\n\n", 1)[0].splitlines()
        assert f"username = {user}" in block and f"password = pw-{n}" in block
    assert "[operator4" not in pjsip
    assert pjsip.count("context = hotline-operator") == 3
    ext = (tmp_path / "i/etc/extensions.conf").read_text()
    assert "Dial(PJSIP/operator&PJSIP/operator2&PJSIP/operator3,20)" in ext


def test_secrets_add_new_seats_and_never_change_existing_values(tmp_path):
    from asterisk.secrets import load_or_create, operator_user

    path = tmp_path / "asterisk" / "secrets.json"
    first = load_or_create(path)
    stored = json.loads(path.read_text())
    generated = {"ari_password", "caller_password", "prompt_pin", "worker_password", "operator_password"}
    assert set(stored) == generated
    assert path.stat().st_mode & 0o077 == 0 and first.operator_passwords == (stored["operator_password"],)
    assert len(first.prompt_pin) == 6 and first.prompt_pin.isdigit()
    mtime = path.stat().st_mtime_ns
    assert load_or_create(path) == first and path.stat().st_mtime_ns == mtime  # complete: not rewritten
    # A file written before seats existed, with a key we do not know: both kept as they are.
    path.write_text(json.dumps({**stored, "kept": "x"}))
    three = load_or_create(path, operator_seats=3)
    now = json.loads(path.read_text())
    assert {k: now[k] for k in stored} == stored and now["kept"] == "x"
    assert set(now) - set(stored) == {"kept", "operator2_password", "operator3_password"}
    assert three.operator_passwords == (
        stored["operator_password"],
        now["operator2_password"],
        now["operator3_password"],
    )
    assert len(set(three.operator_passwords)) == 3 and three.seat_password(2) == now["operator2_password"]
    assert path.stat().st_mode & 0o077 == 0
    assert load_or_create(path, operator_seats=2).operator_passwords == three.operator_passwords[:2]
    assert [operator_user(n) for n in (1, 2, 10)] == ["operator", "operator2", "operator10"]


@pytest.mark.parametrize(
    "content,message",
    [("{broken", "unreadable"), ("[1]", "JSON object"), ('{"ari_password": ""}', "ari_password must be")],
)
def test_bad_secrets_file_is_a_clear_error(tmp_path, content, message):
    from asterisk.secrets import load_or_create
    from core.errors import ConfigError

    path = tmp_path / "secrets.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_or_create(path)
    assert path.read_text() == content  # never overwritten


def test_operator_seats_and_endpoint_settings(tmp_path):
    from core.errors import ConfigError
    from hotline.settings import load_settings

    cfg = ROOT / "config" / "hotline.yaml"
    assert load_settings(cfg, env={}).ivr.asterisk.operator_seats == 1
    env = {
        "HOTLINE_IVR__ASTERISK__OPERATOR_SEATS": "3",
        "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": "PJSIP/operator & PJSIP/operator3",
    }
    settings = load_settings(cfg, env=env)
    assert settings.ivr.asterisk.operator_seats == 3
    assert settings.ivr.flow.operator_endpoint == "PJSIP/operator&PJSIP/operator3"
    with pytest.raises(ConfigError, match="ivr.asterisk.operator_seats"):
        load_settings(cfg, env={"HOTLINE_IVR__ASTERISK__OPERATOR_SEATS": "0"})
    with pytest.raises(ConfigError, match="ivr.flow.operator_endpoint.*stray &"):
        load_settings(cfg, env={"HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": "PJSIP/operator&"})
    # A seat our pjsip.conf does not have would never ring (external mode: the remote Asterisk decides).
    env = {
        "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": "PJSIP/operator&PJSIP/operator3",
        "HOTLINE_IVR__ASTERISK__OPERATOR_SEATS": "2",
    }
    with pytest.raises(ConfigError, match="rings PJSIP/operator3, but ivr.asterisk.operator_seats is 2"):
        load_settings(cfg, env=env)
    assert load_settings(cfg, env={**env, "HOTLINE_IVR__ASTERISK__MODE": "external"})
    # In the YAML file: the error names the file, the line and the key.
    bad = tmp_path / "hotline.yaml"
    bad.write_text("ivr:\n  flow:\n    operator_endpoint: operator\n")
    with pytest.raises(ConfigError, match=r"hotline.yaml.*3.*ivr.flow.operator_endpoint.*'operator'"):
        load_settings(bad, env={})


def test_operator_agent_seat_must_exist(tmp_path):
    from hotline.settings import load_settings
    from sip.agent import agent_target
    from sip.script import CallerError

    env = {
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_IVR__ASTERISK__OPERATOR_SEATS": "2",
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
    }
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    with pytest.raises(CallerError, match="no operator seat 3: ivr.asterisk.operator_seats is 2"):
        agent_target(settings, seat=3)
    with pytest.raises(CallerError, match="Asterisk is not running"):  # seat 2 exists; nothing runs here
        agent_target(settings, seat=2)
    stored = json.loads((tmp_path / "var" / "asterisk" / "secrets.json").read_text())
    assert "operator2_password" in stored


def test_render_config_errors_name_the_template(tmp_path):
    from asterisk.render import Layout, render_config
    from core.errors import ConfigError

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "config" / "asterisk", templates)
    layout = Layout(root=tmp_path / "root", inst="/i")
    values = _values()
    del values["ari_password"]
    with pytest.raises(ConfigError, match="ari.conf"):
        render_config(templates, layout, values)
    (templates / "rtp.conf").unlink()
    with pytest.raises(ConfigError, match="rtp.conf"):
        render_config(templates, layout, _values())


def test_bad_port_range_names_the_key(tmp_path):
    from core.errors import ConfigError
    from hotline.settings import load_settings

    env = {"HOTLINE_IVR__ASTERISK__RTP_PORT_START": "30000", "HOTLINE_IVR__ASTERISK__RTP_PORT_END": "20000"}
    with pytest.raises(ConfigError, match="ivr.asterisk"):
        load_settings(ROOT / "config" / "hotline.yaml", env=env)


def test_call_without_a_running_asterisk_is_a_clear_error(tmp_path):
    env = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "hotline", "call", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: Asterisk is not running") and "Traceback" not in proc.stderr


# --- the real Asterisk -----------------------------------------------------------------------------


@pytest.mark.asterisk
def test_ari_answers_with_the_generated_password(asterisk):
    secrets_file = asterisk.settings.data_dir / "asterisk" / "secrets.json"
    stored = json.loads(secrets_file.read_text())
    assert stored["ari_password"] == asterisk.ari_password and len(asterisk.ari_password) >= 24
    assert stored["operator_password"] != stored["operator2_password"]  # one password per seat
    assert secrets_file.stat().st_mode & 0o077 == 0  # only the owner may read it
    resp = httpx.get(asterisk.rest_url + "/asterisk/info", auth=(asterisk.ari_user, stored["ari_password"]))
    assert resp.status_code == 200
    assert resp.json()["system"]["version"].startswith("22.")
    # the password is generated, never part of the shipped templates
    templates = "".join(p.read_text() for p in (ROOT / "config" / "asterisk").glob("*.conf"))
    assert asterisk.ari_password not in templates


@pytest.mark.asterisk
def test_wrong_ari_password_is_refused(asterisk):
    resp = httpx.get(
        asterisk.rest_url + "/asterisk/info", auth=(asterisk.ari_user, asterisk.ari_password + "x")
    )
    assert resp.status_code == 401
    resp = httpx.get(asterisk.rest_url + "/asterisk/info")
    assert resp.status_code == 401


def _sockets_of(pid: int) -> list[tuple[str, str, int, str]]:
    """(proto, local address, port, state) of every inet socket the process holds, from /proc/net."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[9] not in inodes:
                continue
            addr_hex, port_hex = fields[1].split(":")
            if len(addr_hex) == 8:
                addr = socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr_hex)[::-1])
            else:
                raw = bytes.fromhex(addr_hex)
                addr = socket.inet_ntop(
                    socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                )
            found.append((proto, addr, int(port_hex, 16), fields[3]))
    return found


@pytest.mark.asterisk
def test_nothing_listens_beyond_loopback(asterisk):
    pid = asterisk.handle.pid
    socks = _sockets_of(pid)
    loopback = {"127.0.0.1", "::1"}
    tcp_listen = [s for s in socks if s[0].startswith("tcp") and s[3] == "0A"]
    assert tcp_listen, "Asterisk should listen for ARI"
    assert all(s[1] in loopback for s in tcp_listen), tcp_listen
    assert ("tcp", "127.0.0.1", asterisk.settings.ivr.asterisk.http_port, "0A") in tcp_listen
    udp = [s for s in socks if s[0].startswith("udp")]
    assert ("udp", "127.0.0.1", asterisk.sip_port, "07") in udp
    # pjproject's DNS client (inside res_pjsip, no option turns it off in Asterisk 22) holds one
    # IPv4 and one IPv6 socket on an ephemeral port; it only talks to the name server in resolv.conf,
    # which is 127.0.0.1. Anything else on a wildcard address is a service listening off loopback.
    low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    wildcard = [s for s in udp if s[1] not in loopback]
    assert all(s[1] in ("0.0.0.0", "::") and low <= s[2] <= high for s in wildcard), wildcard
    assert (
        len([s for s in wildcard if s[0] == "udp"]) <= 1 and len([s for s in wildcard if s[0] == "udp6"]) <= 1
    )
    root = asterisk.handle.layout.root
    if root != Path("/"):
        assert "nameserver 127.0.0.1" in (root / "etc" / "resolv.conf").read_text()


@pytest.mark.asterisk
def test_rendered_config_is_complete_and_loaded(asterisk):
    etc = asterisk.handle.layout.host_inst / "etc"
    for name in ("pjsip.conf", "extensions.conf", "http.conf", "ari.conf", "rtp.conf", "modules.conf"):
        text = (etc / name).read_text()
        assert "{{" not in text and "}}" not in text, name
        assert (etc / name).stat().st_mode & 0o077 == 0, name
    endpoints = asterisk.cli("pjsip show endpoints")
    assert "caller" in endpoints and "operator" in endpoints and "operator2" in endpoints  # 2 seats
    assert "operator3" not in endpoints
    assert "Dial(PJSIP/operator&PJSIP/operator2," in asterisk.cli("dialplan show hotline-in")
    assert f"127.0.0.1:{asterisk.sip_port}" in asterisk.cli("pjsip show transports")
    modules = asterisk.cli("module show like iax2")
    assert "chan_iax2.so" not in modules or "Not Running" in modules
    dialplan = asterisk.cli("dialplan show hotline-in")
    assert f"Stasis({asterisk.app_name})" in dialplan and "STASISSTATUS" in dialplan
    # Prompt re-recording is in the operators' context only, as Asterisk loaded it.
    assert "prompt-admin" not in dialplan
    operators = asterisk.cli("dialplan show hotline-operator")
    assert f"Stasis({asterisk.app_name},prompt-admin)" in operators and "Authenticate" not in operators


@pytest.mark.asterisk
def test_busy_port_is_reported_with_its_key(asterisk, tmp_path):
    from asterisk.process import start
    from asterisk.provision import AsteriskError
    from hotline.settings import load_settings

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        env = {
            **os.environ,
            "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
            "HOTLINE_IVR__ASTERISK__SIP_PORT": str(busy.getsockname()[1]),
            "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        }
        with pytest.raises(AsteriskError, match="ivr.asterisk.sip_port"):
            start(load_settings(ROOT / "config" / "hotline.yaml", env=env))


@pytest.mark.asterisk
def test_ensure_running_reuses_the_running_instance(asterisk):
    from asterisk.process import ensure_running

    handle = ensure_running(asterisk.settings)
    assert handle.pid == asterisk.handle.pid
    assert not handle.owned  # the service must not stop an Asterisk it did not start
    assert handle.info()["system"]["version"].startswith("22.")


@pytest.mark.asterisk
def test_cli_up_status_cli_down(asterisk, tmp_path):
    """`hotline asterisk up|status|cli|down` as an operator runs them, on a second instance."""
    rtp_start, rtp_end = free_rtp_range(100)
    env = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_IVR__ASTERISK__SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp_start),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp_end),
        "HOTLINE_IVR__ASTERISK__OPERATOR_SEATS": "3",
    }
    hotline = [sys.executable, "-m", "hotline"]

    def run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run([*hotline, *args], env=env, capture_output=True, text=True, timeout=timeout)

    up = run("asterisk", "up")
    try:
        assert up.returncode == 0, up.stderr
        assert "ARI:" in up.stdout and env["HOTLINE_IVR__ASTERISK__HTTP_PORT"] in up.stdout
        pid = int((tmp_path / "var" / "asterisk" / "asterisk.pid").read_text())
        assert pid != asterisk.handle.pid
        assert "operator seats: operator, operator2, operator3" in up.stdout
        assert "operator-agent [--seat N]" in up.stdout
        status = run("asterisk", "status")
        assert status.returncode == 0 and "answers" in status.stdout, status.stdout + status.stderr
        # Seat names and whether a phone is registered; never a password.
        assert "operator seats: operator (offline), operator2 (offline), operator3 (offline)" in status.stdout
        secrets = json.loads((tmp_path / "var" / "asterisk" / "secrets.json").read_text())
        passwords = [v for k, v in secrets.items() if k.endswith("_password")]
        assert len(passwords) == 6 and not any(p in up.stdout + status.stdout for p in passwords)
        version = run("asterisk", "cli", "core show version")
        assert version.returncode == 0 and "Asterisk 22" in version.stdout
        again = run("asterisk", "up")  # idempotent: finds the running instance
        assert again.returncode == 0 and f"pid {pid}" in again.stdout
    finally:
        down = run("asterisk", "down")
        instance = tmp_path / "var" / "asterisk" / "instance"
        if instance.is_symlink():  # the instance directory lives inside the shared root
            shutil.rmtree(instance.resolve(), ignore_errors=True)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not Path(f"/proc/{pid}").exists() or "asterisk" not in Path(f"/proc/{pid}/cmdline").read_text()
    status = run("asterisk", "status")
    assert status.returncode == 1 and "not running" in status.stdout
    bad = run("asterisk", "cli", "core show version")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


@pytest.mark.asterisk
def test_external_mode_only_connects(asterisk):
    from asterisk.process import ensure_running
    from asterisk.provision import AsteriskError
    from hotline.settings import load_settings

    env = {
        **os.environ,
        **asterisk.env,
        "HOTLINE_IVR__ASTERISK__MODE": "external",
        "HOTLINE_IVR__ASTERISK__ARI_URL": asterisk.ari_url,
        "HOTLINE_IVR__ASTERISK__ARI_PASSWORD": asterisk.ari_password,
    }
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    handle = ensure_running(settings)
    assert handle.mode == "external" and handle.pid is None and not handle.owned
    assert handle.info()["system"]["version"].startswith("22.")
    handle.stop()  # nothing of ours to stop: a no-op
    assert asterisk.handle.alive()
    env["HOTLINE_IVR__ASTERISK__ARI_PASSWORD"] = ""
    with pytest.raises(AsteriskError, match="ari_password"):
        ensure_running(load_settings(ROOT / "config" / "hotline.yaml", env=env))


@pytest.mark.asterisk
def test_restart_keeps_ports_and_credentials(asterisk):
    before = asterisk.handle.pid
    took = asterisk.restart()
    assert asterisk.handle.pid != before and asterisk.handle.alive()
    assert (
        not Path(f"/proc/{before}").exists() or "asterisk" not in Path(f"/proc/{before}/cmdline").read_text()
    )
    resp = httpx.get(asterisk.rest_url + "/asterisk/info", auth=asterisk.auth)
    assert resp.status_code == 200
    assert took < 15.0


def _status_ids(pid: int) -> tuple[int, int]:
    """(real uid, real gid) of a process, from /proc."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {key: value.split() for key, _, value in (line.partition(":") for line in lines)}
    return int(fields["Uid"][0]), int(fields["Gid"][0])


def _chroot_user(asterisk) -> tuple[int, int]:
    """(uid, gid) of Debian's asterisk user in the root debootstrap built."""
    if asterisk.settings.ivr.asterisk.mode != "chroot" or os.geteuid() != 0:
        pytest.skip("Asterisk switches to its own user only when root starts it in its chroot")
    passwd = (asterisk.handle.layout.root / "etc" / "passwd").read_text().splitlines()
    (entry,) = [line.split(":") for line in passwd if line.startswith("asterisk:")]
    return int(entry[2]), int(entry[3])


@pytest.mark.asterisk
def test_asterisk_runs_as_its_own_user_and_its_instance_is_private(asterisk):
    uid, gid = _chroot_user(asterisk)
    assert uid != 0
    assert _status_ids(asterisk.handle.pid) == (uid, gid)
    inst = asterisk.handle.layout.host_inst
    for path in (inst, inst / "etc", inst / "etc" / "pjsip.conf", inst / "spool" / "messages", inst / "log"):
        st = path.stat()
        assert (st.st_uid, st.st_mode & 0o077) == (uid, 0), path
    # It still answers everything it did as root.
    assert "caller" in asterisk.cli("pjsip show endpoints")
    assert httpx.get(asterisk.rest_url + "/asterisk/info", auth=asterisk.auth).status_code == 200


@pytest.mark.asterisk
@pytest.mark.slow
def test_a_new_instance_started_under_the_private_umask_works(asterisk, tmp_path):
    """`hotline` runs with umask 077: what it creates for Asterisk must still let Asterisk's user in."""
    from asterisk.process import start
    from hotline.settings import load_settings

    uid, gid = _chroot_user(asterisk)
    rtp_start, rtp_end = free_rtp_range(20)
    env = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_IVR__ASTERISK__SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp_start),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp_end),
    }
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    old = os.umask(0o077)
    handle = None
    try:
        handle = start(settings)
        assert _status_ids(handle.pid) == (uid, gid)
        assert "Stasis(" in handle.cli("dialplan show hotline-in")
        # Its log is written as that user (umask 077 left its directories to it alone).
        assert handle.log_file.stat().st_uid == uid
        assert handle.info()["system"]["version"]
    finally:
        os.umask(old)
        if handle is not None:
            handle.stop()
            shutil.rmtree(handle.layout.host_inst, ignore_errors=True)


def test_system_name_prefixes_channel_ids_and_is_checked(tmp_path):
    """Two Asterisks behind the same workers need distinct system names (channel ids are unique)."""
    from asterisk.render import Layout, render_config
    from core.errors import ConfigError
    from hotline.settings import load_settings

    layout = Layout(root=tmp_path, inst="/i")
    render_config(ROOT / "config" / "asterisk", layout, _values(system_name="hotline_b"))
    assert re.search(r"^systemname = hotline_b\b", (tmp_path / "i/etc/asterisk.conf").read_text(), re.M)
    cfg = ROOT / "config" / "hotline.yaml"
    assert load_settings(cfg, env={}).ivr.asterisk.system_name == "hotline"  # one install: as before
    env = {"HOTLINE_IVR__ASTERISK__SYSTEM_NAME": "hotline_b"}
    assert load_settings(cfg, env=env).ivr.asterisk.system_name == "hotline_b"
    bad = tmp_path / "hotline.yaml"
    bad.write_text("ivr:\n  asterisk:\n    system_name: 'a b'\n")
    with pytest.raises(ConfigError, match=r"hotline.yaml:3.*ivr.asterisk.system_name"):
        load_settings(bad, env={})
