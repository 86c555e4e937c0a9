"""An Asterisk process of ours: its pid, the ports it needs, its CLI, stopping it cleanly."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from asterisk.provision import AsteriskError
from asterisk.render import Layout

logger = logging.getLogger(__name__)

CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_is_asterisk(pid: int, layout: Layout | None) -> bool:
    """The pid is alive (not a zombie) and is Asterisk running our instance's config."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    if not any(part.endswith("asterisk") for part in cmdline):
        return False
    return layout is None or layout.conf in cmdline


def port_in_use(host: str, port: int, kind: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        if kind == socket.SOCK_STREAM:  # like Asterisk: connections in TIME_WAIT do not block the port
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def asterisk_command(layout: Layout, binary: str, *args: str) -> list[str]:
    if layout.root == Path("/"):
        return [binary, "-C", layout.conf, *args]
    return ["chroot", str(layout.root), binary, "-C", layout.conf, *args]


def run_cli(
    layout: Layout, command: str, *, timeout: float = 10.0, binary: str = "/usr/sbin/asterisk"
) -> str:
    try:
        proc = subprocess.run(
            asterisk_command(layout, binary, "-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=CLEAN_ENV,
        )
    except subprocess.TimeoutExpired:
        raise AsteriskError(f"Asterisk CLI did not answer within {timeout:.0f} s: {command}") from None
    if proc.returncode != 0:
        raise AsteriskError(
            f"Asterisk CLI failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}"
        )
    return proc.stdout


def stop_instance(
    layout: Layout,
    pid: int,
    *,
    timeout: float = 10.0,
    proc: subprocess.Popen | None = None,
    binary: str = "/usr/sbin/asterisk",
) -> None:
    """`core stop now` through the CLI, then SIGTERM, then SIGKILL; each step bounded."""

    def gone(wait: float) -> bool:
        deadline = time.monotonic() + wait
        while True:
            if proc is not None:
                try:
                    proc.wait(timeout=0.1)
                    return True
                except subprocess.TimeoutExpired:
                    pass
            elif not pid_is_asterisk(pid, layout):
                return True
            else:
                time.sleep(0.1)
            if time.monotonic() > deadline:
                return False

    if proc is None and not pid_is_asterisk(pid, layout):
        return
    try:
        run_cli(layout, "core stop now", timeout=min(5.0, timeout), binary=binary)
    except AsteriskError as exc:
        logger.warning("clean Asterisk stop failed: %s", exc)
    if gone(timeout):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        logger.warning("Asterisk pid %d still running: sending %s", pid, sig.name)
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if gone(5.0):
            return
    raise AsteriskError(f"Asterisk pid {pid} did not exit")
