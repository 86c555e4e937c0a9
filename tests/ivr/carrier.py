"""A second Asterisk that plays a Vietnamese carrier: started from the hotline's root, its own config.

It listens on two loopback addresses (127.0.0.2: the register trunk, 127.0.0.3: the IP trunk), offers
only PCMA, lets subscribers (citizens, officers' mobiles) register by number, requires the hotline to
register with digest credentials, and routes the hotline's numbers to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ivr.conftest import OWNER_FILE
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "tests" / "fixtures" / "carrier"
REGISTER_ADDRESS = "127.0.0.2"
IP_TRUNK_ADDRESS = "127.0.0.3"
HOTLINE_USER = "hotline-na"  # the hotline's account at the carrier
CITIZEN = "0912345678"
OFFICER = "0987654321"
STRANGER = "0977000111"  # a number nobody put on the allowlist
REGISTER_DID = "02383599111"  # the hotline's number on the register trunk
IP_DID = "02383888111"  # ... on the IP trunk (one call at a time)
GATEWAY_DID = "02383777111"  # ... on the GSM gateway known by its SIP user
GATEWAY2_DID = "02383777222"  # ... on the GSM gateway known by its address
GATEWAY2_ADDRESS = "127.0.0.6"


def free_port_on(hosts: tuple[str, ...], kind: int = socket.SOCK_DGRAM) -> int:
    """A port free on every one of `hosts` (loopback aliases share nothing: each is checked)."""
    for _ in range(50):
        port = free_port(kind)
        ok = True
        for host in hosts:
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return port
    raise RuntimeError(f"no port free on all of {hosts}")


@dataclass
class Subscriber:
    number: str
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))


@dataclass
class Carrier:
    """The running carrier: where it listens and its accounts."""

    sip_port: int
    hotline_password: str
    subscribers: dict[str, Subscriber]
    handle: object  # asterisk.handle.AsteriskHandle
    proc: subprocess.Popen
    register_prefix: str  # subscribers' calls to <prefix>XXX go to the register trunk
    ip_prefix: str  # ... and to <prefix>XXX to the IP trunk

    def target(self, number: str, to: str, codec: str = "alaw", register: bool = True):
        from sip.script import CallTarget

        sub = self.subscribers[number]
        return CallTarget(
            host=REGISTER_ADDRESS,
            port=self.sip_port,
            extension=to,
            user=number,
            password=sub.password,
            register=register,
            codec=codec,  # type: ignore[arg-type]
        )

    def cli(self, command: str) -> str:
        return self.handle.cli(command)  # type: ignore[attr-defined]

    def stop(self) -> None:
        from asterisk.instance import stop_instance

        layout = self.handle.layout  # type: ignore[attr-defined]
        stop_instance(layout, self.proc.pid, timeout=10.0, proc=self.proc)
        shutil.rmtree(layout.host_inst, ignore_errors=True)


def start_carrier(
    root: Path,
    *,
    hotline_port: int,
    subscribers: tuple[str, ...],
    register_prefix: str,
    ip_prefix: str,
    rtp: tuple[int, int],
) -> Carrier:
    """Render the carrier's config into its own instance directory under `root` and start it."""
    from asterisk.handle import AsteriskHandle, wait_for_ari
    from asterisk.instance import CLEAN_ENV, asterisk_command
    from asterisk.provision import modules_dir
    from asterisk.render import Layout, render_config

    sip_port = free_port_on((REGISTER_ADDRESS, IP_TRUNK_ADDRESS))
    http_port = free_port_on((REGISTER_ADDRESS,), socket.SOCK_STREAM)
    layout = Layout(root=root, inst=f"/srv/hotline/carrier-{secrets.token_hex(6)}")
    accounts = {n: Subscriber(n) for n in subscribers}
    hotline_password = secrets.token_urlsafe(24)
    ari_password = secrets.token_urlsafe(16)
    values = {
        "bind": REGISTER_ADDRESS,
        "http_bind": REGISTER_ADDRESS,
        "http_tls": None,
        "bind_ip_trunk": IP_TRUNK_ADDRESS,
        "sip_port": sip_port,
        "http_port": http_port,
        "rtp_start": rtp[0],
        "rtp_end": rtp[1],
        "ari_user": "carrier",
        "ari_password": ari_password,
        "system_name": "carrier",  # its channel ids differ from the hotline's
        "ari_mode": "inbound",  # no call workers: the carrier's ARI is for the tests' own checks
        "modules_dir": modules_dir(root),
        "subscribers": [{"number": s.number, "password": s.password} for s in accounts.values()],
        "hotline_user": HOTLINE_USER,
        "hotline_password": hotline_password,
        "hotline_host": "127.0.0.1",
        "hotline_port": hotline_port,
        "register_prefix": register_prefix,
        "ip_prefix": ip_prefix,
    }
    with tempfile.TemporaryDirectory() as tmp:
        # The hotline's own templates for everything but the SIP accounts and the routing.
        templates = Path(tmp)
        for src in (ROOT / "config" / "asterisk").glob("*.conf"):
            shutil.copyfile(src, templates / src.name)
        for src in TEMPLATES.glob("*.conf"):
            shutil.copyfile(src, templates / src.name)
        render_config(templates, layout, values)
    (layout.host_inst / OWNER_FILE).write_text(str(os.getpid()))
    handle = AsteriskHandle(
        mode="chroot" if root != Path("/") else "host",
        ari_url=f"http://{REGISTER_ADDRESS}:{http_port}",
        ari_user="carrier",
        ari_password=ari_password,
        app_name="carrier",
        sip_host=REGISTER_ADDRESS,
        sip_port=sip_port,
        extension="",
        prompt_extension="",
        layout=layout,
    )
    as_root = ("-U", "root", "-G", "root") if os.geteuid() == 0 else ()
    log = open(layout.host_inst / "console.log", "ab")  # noqa: SIM115 - the process keeps writing to it
    proc = subprocess.Popen(
        asterisk_command(layout, "/usr/sbin/asterisk", "-f", "-n", *as_root),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=CLEAN_ENV,
        start_new_session=True,
    )
    log.close()
    handle.pid = proc.pid
    try:
        wait_for_ari(handle, 60.0, proc)
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    return Carrier(sip_port, hotline_password, accounts, handle, proc, register_prefix, ip_prefix)


@dataclass
class TrunkLab:
    """The carrier and the hotline's own Asterisk with three trunks to it, both running."""

    carrier: Carrier
    handle: Any  # asterisk.handle.AsteriskHandle of the hotline
    settings: Any  # hotline.settings.Settings pointing at it


def _wait_registered(handle: Any, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while True:
        out = handle.cli("pjsip show registrations")
        if " Registered" in out:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the hotline never registered at the carrier:\n{out}")
        time.sleep(0.3)


@contextlib.contextmanager
def trunk_lab(
    data_dir: Path, rtp: tuple[tuple[int, int], tuple[int, int]], extra_env: dict[str, str]
) -> Iterator[TrunkLab]:
    """Start the carrier (register trunk, IP trunk with one line) and the hotline's Asterisk with a
    GSM gateway trunk too; calls out go through the register trunk to the allowlisted officer.

    `rtp`: the carrier's and the hotline Asterisk's RTP ranges; `extra_env`: HOTLINE_* settings.
    """
    from asterisk.handle import layout_for, state_dir
    from asterisk.process import start
    from asterisk.secrets import set_trunk_password
    from hotline.settings import load_settings

    sip_port, http_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    base = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(data_dir / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(data_dir / "var" / "cache"),
    }
    root = layout_for(load_settings(ROOT / "config" / "hotline.yaml", env=base)).root
    carrier = start_carrier(
        root,
        hotline_port=sip_port,
        subscribers=(CITIZEN, OFFICER, STRANGER),
        register_prefix=REGISTER_DID[:-3],
        ip_prefix=IP_DID[:-3],
        rtp=rtp[0],
    )
    handle = None
    try:
        trunks = [
            {"name": "vnpt", "kind": "register", "host": REGISTER_ADDRESS, "port": carrier.sip_port,
             "username": HOTLINE_USER, "numbers": [REGISTER_DID]},
            {"name": "viettel", "kind": "ip", "host": IP_TRUNK_ADDRESS, "port": carrier.sip_port,
             "numbers": [IP_DID], "max_calls": 1},
            {"name": "goip-xa", "kind": "gateway", "numbers": [GATEWAY_DID], "codecs": ["alaw"]},
            {"name": "goip-xb", "kind": "gateway", "numbers": [GATEWAY2_DID], "match": [GATEWAY2_ADDRESS]},
        ]  # fmt: skip
        env = {
            **base,
            "HOTLINE_IVR__ASTERISK__SIP_PORT": str(sip_port),
            "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(http_port),
            "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp[1][0]),
            "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp[1][1]),
            "HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps(trunks),
            "HOTLINE_IVR__ASTERISK__DIAL_OUT": json.dumps({"trunk": "vnpt", "allowlist": [OFFICER]}),
            "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": OFFICER,
            **extra_env,
        }
        settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
        # What `hotline asterisk trunk-password vnpt` stores: the password the carrier gave.
        set_trunk_password(state_dir(settings) / "secrets.json", "vnpt", carrier.hotline_password)
        handle = start(settings)
        if handle.layout is not None:
            (handle.layout.host_inst / OWNER_FILE).write_text(str(os.getpid()))
        _wait_registered(handle)
        yield TrunkLab(carrier, handle, settings)
    finally:
        if handle is not None:
            handle.stop()
        carrier.stop()
