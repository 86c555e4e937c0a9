"""The SIP edge: what a scanner and a password guesser learn from our Asterisk, and what fail2ban sees.

sipvicious (svwar: extension enumeration, svcrack: password guessing) attacks the session's Asterisk over
loopback. Every request from an unknown account, and every wrong password, must meet the same 401
challenge as a real account's first request, and must reach the security log in a form the shipped
fail2ban filter turns into the source address. Asterisk itself bans nobody, so these runs from 127.0.0.1
cannot lock out the other tests of the session; banning is fail2ban's job on a real machine.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

from .conftest import ROOT, free_rtp_range

FAIL2BAN = ROOT / "config" / "fail2ban"
FILTER = FAIL2BAN / "filter.d" / "hotline-asterisk.conf"
JAIL = FAIL2BAN / "jail.d" / "hotline-asterisk.conf"
FAILURES = ("InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword", "FailedACL")

REAL_USERS = ("caller", "operator", "operator2")  # our endpoints (the session runs two operator seats)
OUR_NUMBERS = ("1080", "1089")  # the hotline and the prompt re-recording extension
NAMES = (
    *REAL_USERS,
    "operator3",
    "admin",
    "administrator",
    "hotline",
    "asterisk",
    "root",
    "test",
    "guest",
    "user",
    "support",
    "trunk",
    "carrier",
    "voip",
    "sip",
    "anonymous",
    "tongdai",
    "canbo",
)
NUMBERS = tuple(str(n) for n in (*range(100, 200), *range(1000, 1100)))  # 1080 and 1089 among them
DICTIONARY = NAMES + NUMBERS
WRONG_PASSWORDS = (
    "123456",
    "password",
    "caller",
    "Caller",
    "1234",
    "0000",
    "1080",
    "hotline",
    "asterisk",
    "secret",
    "admin",
    "12345678",
    "qwerty",
    "abc123",
    "letmein",
    "nghean",
    "tongdai",
    *(secrets.token_urlsafe(24) for _ in range(8)),
)  # long random ones, like the real one
RUN_TIMEOUT = 60.0  # seconds any one sipvicious run may take (svcrack waits 10 s for late answers)


def _fail2ban_regex(log: Path, *options: str) -> subprocess.CompletedProcess:
    exe = shutil.which("fail2ban-regex")
    assert exe, "fail2ban-regex is missing: `make setup` installs the Debian package fail2ban"
    return subprocess.run([exe, *options, str(log), str(FILTER)], capture_output=True, text=True, timeout=60)


def _event(
    kind: str, remote: str, *, account: str = "caller", session: str = "3549068720", extra: str = ""
) -> str:
    return (
        f'[2026-12-03 18:18:50.639] SECURITY[26569] res_security_log.c: SecurityEvent="{kind}",'
        f'EventTV="2026-12-03T18:18:50.639+0700",Severity="Error",Service="PJSIP",EventVersion="1",'
        f'AccountID="{account}",SessionID="{session}",LocalAddress="IPV4/UDP/127.0.0.1/5060",'
        f'RemoteAddress="{remote}"{extra}'
    )


# --- pure: settings, rendering, secrets, the fail2ban files -------------------------------------------


def test_ari_beyond_loopback_needs_tls(tmp_path):
    from asterisk.handle import handle_for
    from core.errors import ConfigError
    from hotline.settings import load_settings

    cfg = ROOT / "config" / "hotline.yaml"
    bind, cert, key = (
        f"HOTLINE_IVR__ASTERISK__{k}"
        for k in ("HTTP_BIND_ADDRESS", "HTTP_TLS_CERT_FILE", "HTTP_TLS_KEY_FILE")
    )
    for address in ("0.0.0.0", "192.0.2.10", "::", "ari.example.org"):
        with pytest.raises(ConfigError, match=rf"ivr\.asterisk: .*http_bind_address {address} is not loop"):
            load_settings(cfg, env={bind: address})
    with pytest.raises(ConfigError, match="http_tls_cert_file and http_tls_key_file go together"):
        load_settings(cfg, env={bind: "0.0.0.0", cert: "ari.crt"})
    with pytest.raises(ConfigError, match="http_tls_port must differ from http_port"):
        load_settings(cfg, env={cert: "a.crt", key: "a.key", "HOTLINE_IVR__ASTERISK__HTTP_TLS_PORT": "8088"})
    # With TLS, ARI may listen beyond loopback; clear text stays on loopback, where the app connects.
    tls = load_settings(cfg, env={bind: "0.0.0.0", cert: "a.crt", key: "a.key"}).ivr.asterisk
    assert tls.http_tls and tls.http_address == "127.0.0.1"
    tls6 = load_settings(cfg, env={bind: "::", cert: "a.crt", key: "a.key"}).ivr.asterisk
    assert tls6.http_address == "::1"
    assert load_settings(cfg, env={bind: "::1"}).ivr.asterisk.http_address == "::1"
    # SIP opened to a carrier does not take ARI with it: one setting no longer serves both.
    env = {
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": "8123",
        "HOTLINE_IVR__ASTERISK__BIND_ADDRESS": "192.0.2.10",
    }
    handle = handle_for(load_settings(cfg, env=env))
    assert handle.ari_url == "http://127.0.0.1:8123" and handle.sip_host == "192.0.2.10"


def test_http_conf_serves_tls_beyond_loopback_and_clear_text_on_loopback(tmp_path):
    from asterisk.render import Layout, install_tls, render_config

    from .test_asterisk import _values

    layout = Layout(root=tmp_path / "root", inst="/srv/hotline/abc")
    render_config(ROOT / "config" / "asterisk", layout, _values())
    http = (layout.host_inst / "etc" / "http.conf").read_text()
    assert "bindaddr = 127.0.0.1" in http and "tlsenable = no" in http and "tlsbindaddr" not in http

    (tmp_path / "ari.crt").write_text("CERT\n")
    (tmp_path / "ari.key").write_text("KEY\n")
    tls = install_tls(layout, tmp_path / "ari.crt", tmp_path / "ari.key", "0.0.0.0", 8089)
    assert tls == {
        "bind": "0.0.0.0:8089",
        "cert": "/srv/hotline/abc/etc/tls/ari-cert.pem",
        "key": "/srv/hotline/abc/etc/tls/ari-key.pem",
    }
    key = layout.host_path(tls["key"])
    assert key.read_text() == "KEY\n" and key.stat().st_mode & 0o077 == 0
    render_config(ROOT / "config" / "asterisk", layout, _values(http_tls=tls))
    http = (layout.host_inst / "etc" / "http.conf").read_text()
    assert "bindaddr = 127.0.0.1" in http and "tlsenable = yes" in http
    assert "tlsbindaddr = 0.0.0.0:8089" in http and f"tlsprivatekey = {tls['key']}" in http
    assert install_tls(layout, tmp_path / "ari.crt", tmp_path / "ari.key", "::", 8443)["bind"] == "[::]:8443"


def test_generated_sip_passwords_are_long_and_existing_ones_are_kept(tmp_path):
    from asterisk.secrets import load_or_create

    path = tmp_path / "secrets.json"
    fresh = load_or_create(path, operator_seats=2)
    for password in (fresh.ari_password, fresh.caller_password, *fresh.operator_passwords):
        assert len(password) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", password)  # 24 random bytes or more
    assert len(fresh.prompt_pin) == 6 and fresh.prompt_pin.isdigit()  # typed on a phone keypad
    # A file from before: its short passwords stay (phones are set up with them); a new seat gets a long one.
    old = {
        "ari_password": "a" * 32,
        "caller_password": "c" * 16,
        "prompt_pin": "123456",
        "operator_password": "o" * 16,
    }
    path.write_text(json.dumps(old))
    kept = load_or_create(path, operator_seats=2)
    assert (kept.caller_password, kept.operator_password) == ("c" * 16, "o" * 16)
    assert len(kept.seat_password(2)) >= 32


def test_fail2ban_filter_takes_the_source_of_failures_only(tmp_path):
    lines = [
        _event(
            "ChallengeResponseFailed",
            "IPV4/UDP/198.51.100.7/5060",
            extra=',Challenge="1796321930/2434df844950cbb71eb2f09db135a737",Response="eb3c",ExpectedResponse=""',
        ),
        _event("InvalidAccountID", "IPV4/UDP/198.51.100.8/5061", account="1080"),
        _event("InvalidAccountID", "IPV6/UDP/2001:db8::7/5062", account="admin"),
        _event(
            "FailedACL",
            "IPV4/UDP/203.0.113.9/5060",
            account="carrier",
            extra=',ACLName="not_match_endpoint_acl"',
        ),
        _event("InvalidPassword", "IPV4/TCP/203.0.113.12/40000", account="admin"),
        # A Call-ID (SessionID) and a From user (AccountID) may hold quotes: a fake address in them must not
        # get its owner banned; nor one inside a digest response (a SIP quoted string: its quotes escaped).
        _event(
            "InvalidAccountID",
            "IPV4/UDP/198.51.100.9/5060",
            account='x",RemoteAddress="IPV4/UDP/192.0.2.1/1',
            session='a",LocalAddress="IPV4/UDP/127.0.0.1/5060",RemoteAddress="IPV4/UDP/192.0.2.2/5060',
        ),
        _event(
            "ChallengeResponseFailed",
            "IPV4/UDP/198.51.100.10/5060",
            extra=r',Challenge="1/2",Response="x\",RemoteAddress=\"IPV4/UDP/192.0.2.3/5060\"",ExpectedResponse=""',
        ),
        # Not failures: every honest phone meets a challenge before it authenticates.
        _event("ChallengeSent", "IPV4/UDP/203.0.113.20/5060", extra=',Challenge=""'),
        _event("SuccessfulAuth", "IPV4/UDP/203.0.113.21/5060", extra=',UsingPassword="1"'),
        "[2026-12-03 18:18:19.273] Asterisk 22.10.1 built by nobody @ buildd.debian.org",
    ]
    log = tmp_path / "security.log"
    log.write_text("\n".join(lines) + "\n")
    out = _fail2ban_regex(log, "-o", "ip")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "198.51.100.7",
        "198.51.100.8",
        "2001:db8::7",
        "203.0.113.9",
        "203.0.113.12",
        "198.51.100.9",
        "198.51.100.10",
    ]


def test_fail2ban_jail_loads_with_the_filter(tmp_path):
    """The jail as fail2ban itself reads it, beside Debian's own configuration."""
    client = shutil.which("fail2ban-client")
    assert client and Path("/etc/fail2ban/jail.conf").exists(), "`make setup` installs the fail2ban package"
    conf = tmp_path / "fail2ban"
    shutil.copytree("/etc/fail2ban", conf)
    shutil.copy(FILTER, conf / "filter.d")
    log = tmp_path / "security.log"
    log.write_text("")
    jail = JAIL.read_text()
    assert re.search(r"^logpath\s*=\s*/\S+/var/asterisk/instance/log/security\.log$", jail, re.M)
    (conf / "jail.d" / JAIL.name).write_text(re.sub(r"^logpath\s*=.*$", f"logpath = {log}", jail, flags=re.M))
    dump = subprocess.run([client, "-c", str(conf), "-d"], capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0, dump.stderr
    ours = [line for line in dump.stdout.splitlines() if "'hotline-asterisk'" in line]
    assert "['add', 'hotline-asterisk', 'auto']" in ours and "['start', 'hotline-asterisk']" in ours
    assert any("addfailregex" in line and "RemoteAddress" in line for line in ours)
    assert f"['set', 'hotline-asterisk', 'addlogpath', '{log}', 'head']" in ours
    assert "['set', 'hotline-asterisk', 'maxretry', 5]" in ours
    assert any("actionban" in line and "'tcp,udp'" in line for line in ours)  # SIP is UDP: banned too


# --- the real Asterisk ---------------------------------------------------------------------------------


@pytest.mark.asterisk
def test_pjsip_global_settings_and_the_security_log_are_live(asterisk):
    settings = asterisk.cli("pjsip show settings")
    for name, value in (
        ("user_agent", "hotline"),
        ("default_realm", "hotline"),
        ("endpoint_identifier_order", "ip,username,anonymous"),
        ("unidentified_request_count", "3"),
        ("unidentified_request_period", "60"),
        ("unidentified_request_prune_interval", "30"),
    ):
        assert re.search(rf"^\s*{name}\s*: {re.escape(value)}\s*$", settings, re.M), name
    assert "Could not create an object of type 'global'" not in asterisk.log_text()
    assert "Running" in asterisk.cli("module show like res_security_log")
    layout = asterisk.handle.layout
    assert layout.security_log.exists()
    # The jail's logpath (var/asterisk/instance/...) leads to this file whatever the mode.
    stable = asterisk.settings.data_dir / "asterisk" / "instance" / "log" / "security.log"
    assert stable.resolve() == layout.security_log.resolve()


@pytest.mark.asterisk
def test_ari_over_tls_with_clear_text_on_loopback(asterisk, tmp_path):
    """A second instance with a certificate: ARI answers over TLS, the key stays private in the instance."""
    from asterisk.process import start
    from hotline.settings import load_settings

    cert, key = tmp_path / "ari.crt", tmp_path / "ari.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    rtp_start, rtp_end = free_rtp_range(100)
    tls_port = free_port(socket.SOCK_STREAM)
    env = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_IVR__ASTERISK__SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_TLS_PORT": str(tls_port),
        "HOTLINE_IVR__ASTERISK__HTTP_TLS_CERT_FILE": str(cert),
        "HOTLINE_IVR__ASTERISK__HTTP_TLS_KEY_FILE": str(key),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp_start),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp_end),
    }
    handle = start(load_settings(ROOT / "config" / "hotline.yaml", env=env))
    try:
        assert handle.layout is not None
        http = (handle.layout.host_inst / "etc" / "http.conf").read_text()
        assert f"tlsbindaddr = 127.0.0.1:{tls_port}" in http
        assert (handle.layout.host_inst / "etc" / "tls" / "ari-key.pem").stat().st_mode & 0o077 == 0
        context = ssl.create_default_context(cafile=str(cert))
        resp = httpx.get(
            f"https://127.0.0.1:{tls_port}/ari/asterisk/info", auth=handle.auth, verify=context, timeout=10
        )
        assert resp.status_code == 200 and resp.json()["system"]["version"].startswith("22.")
        assert handle.ari_url.startswith("http://127.0.0.1:")  # the application keeps clear text on loopback
        assert handle.info()["system"]["version"].startswith("22.")
    finally:
        handle.stop()
        if handle.layout is not None and handle.layout.root != Path("/"):
            shutil.rmtree(handle.layout.host_inst, ignore_errors=True)


# What a scan looks like from outside: status line, header names in order, the challenge's parameters
# (without its per-request nonce and opaque) and the Server header. Anything else differs per request.
Fingerprint = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], str]


def _fingerprint(response: str) -> Fingerprint:
    head = response.split("\r\n\r\n", 1)[0].split("\r\n")
    names: list[str] = []
    challenge: tuple[tuple[str, str], ...] = ()
    server = ""
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        names.append(name)
        if name == "www-authenticate":
            params = re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', value)
            challenge = tuple(sorted((k, a or b) for k, a, b in params if k not in ("nonce", "opaque")))
        elif name == "server":
            server = value.strip()
    return head[0], tuple(names), challenge, server


class Prober:
    """A bare SIP client on loopback: one request, its final answer (ACKing an INVITE's), no retries."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def ask(self, method: str, user: str) -> str:
        host, port = self.target
        uri = f"sip:{user}@{host}:{port}"
        call_id, tag, branch = uuid.uuid4().hex, uuid.uuid4().hex[:10], "z9hG4bK" + uuid.uuid4().hex
        head = {
            "Via": f"SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport",
            "Max-Forwards": "70",
            "From": f"<sip:{user}@{host}>;tag={tag}",
            "To": f"<sip:{user}@{host}>",
            "Call-ID": call_id,
        }
        self._send(f"{method} {uri}", head, f"1 {method}", contact=f"<sip:{user}@127.0.0.1:{self.port}>")
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                continue
            code = data.split(" ", 2)[1] if data.startswith("SIP/2.0 ") else ""
            if f"Call-ID: {call_id}" not in data or not code.isdigit() or int(code) < 200:
                continue  # a provisional answer or a late one to an earlier request
            if method == "INVITE":  # a final answer to an INVITE is acknowledged, or Asterisk repeats it
                to = re.search(r"^To: (.*)$", data, re.M)
                self._send(f"ACK {uri}", {**head, "To": to.group(1).strip() if to else head["To"]}, "1 ACK")
            return data
        raise AssertionError(f"no final answer to {method} {user}")

    def _send(self, line: str, head: dict[str, str], cseq: str, contact: str = "") -> None:
        extra = f"Contact: {contact}\r\n" if contact else ""
        text = (
            f"{line} SIP/2.0\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in head.items())
            + f"CSeq: {cseq}\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        self.sock.sendto(text.encode(), self.target)


def _sipvicious(tool: str, *args: str) -> subprocess.CompletedProcess:
    """One bounded run of a sipvicious tool, as the attacker would start it (module form of its command)."""
    return subprocess.run(
        [sys.executable, "-m", f"sipvicious.{tool}", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def _start_sipvicious(tool: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", f"sipvicious.{tool}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Attack:
    """Everything the attacks did and got, run once for the tests below."""

    # "<method> <candidate>" -> (local port, run)
    svwar: dict[str, tuple[int, subprocess.CompletedProcess]] = field(default_factory=dict)
    svcrack: tuple[int, subprocess.CompletedProcess] | None = None
    baseline: dict[str, Fingerprint] = field(default_factory=dict)  # method -> answer to a made-up user
    answers: dict[tuple[str, str], Fingerprint] = field(default_factory=dict)  # (method, user) -> answer
    sweep_port: int = 0
    log_lines: list[str] = field(default_factory=list)  # the security log after the attacks


@pytest.fixture(scope="module")
def attack(asterisk, tmp_path_factory) -> Attack:
    tmp = tmp_path_factory.mktemp("sip-edge")
    host, port = asterisk.sip_host, str(asterisk.sip_port)
    out = Attack()
    # svcrack waits 10 s for late answers whatever happens: it runs while the scans below go on.
    passwords = tmp / "passwords.txt"
    passwords.write_text("\n".join(WRONG_PASSWORDS) + "\n")
    crack_port = free_port(socket.SOCK_DGRAM)
    crack = _start_sipvicious(
        "svcrack",
        "-u",
        "caller",
        "-d",
        str(passwords),
        "-b",
        "127.0.0.1",
        "-P",
        str(crack_port),
        "--maximumtime",
        "5",
        "-p",
        port,
        host,
    )
    try:
        # svwar first asks for a made-up extension; when the answer is the 401 every account gets, it stops
        # at the first candidate that answers the same ("found nothing"). So one run per candidate that
        # matters, and one over the whole dictionary, for each method.
        for method in ("REGISTER", "INVITE"):
            for candidate in (*REAL_USERS, *OUR_NUMBERS, "dictionary"):
                words = tmp / f"{method}-{candidate}.txt"
                words.write_text("\n".join(DICTIONARY if candidate == "dictionary" else (candidate,)) + "\n")
                local = free_port(socket.SOCK_DGRAM)
                run = _sipvicious(
                    "svwar",
                    "--force",
                    "-m",
                    method,
                    "-d",
                    str(words),
                    "-b",
                    "127.0.0.1",
                    "-P",
                    str(local),
                    "--maximumtime",
                    "5",
                    "-p",
                    port,
                    host,
                )
                out.svwar[f"{method} {candidate}"] = (local, run)
        # Our own sweep finishes the job svwar gives up on: every word of the dictionary, by each method,
        # compared with a made-up user on more than svwar looks at.
        prober = Prober(host, asterisk.sip_port)
        out.sweep_port = prober.port
        try:
            for method in ("REGISTER", "INVITE", "OPTIONS"):
                out.baseline[method] = _fingerprint(prober.ask(method, f"nobody{secrets.randbelow(10**9)}"))
                for user in DICTIONARY:
                    out.answers[(method, user)] = _fingerprint(prober.ask(method, user))
        finally:
            prober.close()
        stdout, stderr = crack.communicate(timeout=RUN_TIMEOUT)
        out.svcrack = (crack_port, subprocess.CompletedProcess(crack.args, crack.returncode, stdout, stderr))
    finally:
        if crack.poll() is None:
            crack.kill()
            crack.wait()
    # Asterisk's logger writes in its own thread: wait (bounded) until svcrack's last guess is in the file.
    deadline = time.monotonic() + 10
    while True:
        out.log_lines = asterisk.handle.layout.security_log.read_text(errors="replace").splitlines()
        done = len(_events(out.log_lines, "ChallengeResponseFailed", crack_port)) >= len(WRONG_PASSWORDS)
        if done or time.monotonic() > deadline:
            return out
        time.sleep(0.2)


def _events(lines: list[str], kind: str, port: int, account: str | None = None) -> list[str]:
    remote = f'RemoteAddress="IPV4/UDP/127.0.0.1/{port}"'
    found = [line for line in lines if f'SecurityEvent="{kind}"' in line and remote in line]
    return [line for line in found if account is None or f'AccountID="{account}"' in line]


def _ports(attack: Attack) -> list[int]:
    ports = [local for local, _ in attack.svwar.values()] + [attack.sweep_port]
    return ports + ([attack.svcrack[0]] if attack.svcrack else [])


@pytest.mark.asterisk
def test_extension_scan_finds_nothing(attack):
    for name, (local, run) in attack.svwar.items():
        said = run.stdout + run.stderr
        assert run.returncode != 40 and "found nothing" in said and "exists" not in said, (name, said)
        method, candidate = name.split(" ", 1)
        if candidate == "dictionary":
            continue
        # The candidate did reach Asterisk, which knew whether it exists (its log says), yet answered alike.
        kind = "ChallengeSent" if candidate in REAL_USERS else "InvalidAccountID"
        assert _events(attack.log_lines, kind, local, candidate), (name, "not in the security log")
    # The whole dictionary, by REGISTER, INVITE and OPTIONS: one answer for everybody, a challenge.
    for method, baseline in attack.baseline.items():
        assert baseline[0] == "SIP/2.0 401 Unauthorized" and ("realm", "hotline") in baseline[2]
        assert "asterisk" not in str(baseline).lower()  # no product name in the answer either
        differ = [user for user in DICTIONARY if attack.answers[(method, user)] != baseline]
        assert not differ, f"{method}: these answer differently from a made-up user: {differ}"
    # Each request of the sweep naming no account (and each made-up baseline) is one security event.
    unknown = [u for u in DICTIONARY if u not in REAL_USERS]
    assert len(_events(attack.log_lines, "InvalidAccountID", attack.sweep_port)) == 3 * (len(unknown) + 1)


@pytest.mark.asterisk
def test_password_guessing_finds_nothing(attack):
    assert attack.svcrack is not None
    local, run = attack.svcrack
    said = run.stdout + run.stderr
    assert run.returncode != 40 and "found nothing" in said, said
    # Every guess reached the real account and was refused there.
    assert len(_events(attack.log_lines, "ChallengeResponseFailed", local, "caller")) == len(WRONG_PASSWORDS)


@pytest.mark.asterisk
def test_fail2ban_filter_finds_the_attacks_in_the_security_log(attack, asterisk, tmp_path):
    log = asterisk.handle.layout.security_log
    failure = re.compile(rf'SecurityEvent="(?:{"|".join(FAILURES)})"')
    failures = [line for line in attack.log_lines if failure.search(line)]
    ours = [line for line in failures if any(f'/127.0.0.1/{p}"' in line for p in _ports(attack))]
    assert len(ours) >= len(WRONG_PASSWORDS) + 3 * (len(DICTIONARY) - len(REAL_USERS))
    # The live file as fail2ban reads it: every failure matched, each from 127.0.0.1.
    found = _fail2ban_regex(log, "-o", "ip")
    assert found.returncode == 0, found.stderr
    addresses = found.stdout.split()
    assert set(addresses) == {"127.0.0.1"} and len(addresses) >= len(failures)
    # The attacks' own lines alone: none missed.
    sample = tmp_path / "attacks.log"
    sample.write_text("\n".join(ours) + "\n")
    summary = _fail2ban_regex(sample)
    counts = f"Lines: {len(ours)} lines, 0 ignored, {len(ours)} matched, 0 missed"
    assert counts in summary.stdout, summary.stdout
