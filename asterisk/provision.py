"""Build (once) the Debian unstable root that carries Asterisk 22, with debootstrap."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import HotlineError

logger = logging.getLogger(__name__)

DEFAULT_MIRROR = "http://deb.debian.org/debian"
MARKER = ".hotline-provisioned"  # written last: a root without it is half-built and is redone
APT_SOURCES = Path("/etc/apt")
# Directories Asterisk writes to: the package leaves them owned by the root's `asterisk` user, whose
# uid means nothing (or someone else) on this machine; we run Asterisk as root inside the root.
ROOT_OWNED = (
    "var/lib/asterisk",
    "var/log/asterisk",
    "var/spool/asterisk",
    "run/asterisk",
    "etc/asterisk",
    "var/cache/asterisk",
    "usr/share/asterisk",
)


class AsteriskError(HotlineError):
    """Asterisk could not be provisioned, started, reached or stopped."""

    code = "asterisk"


def host_mirror(apt_dir: Path = APT_SOURCES) -> str:
    """The Debian mirror this machine's apt uses (one-line and deb822 sources), else deb.debian.org."""
    candidates: list[str] = []
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if path.suffix == ".sources":
            candidates += _deb822_uris(text)
        else:
            candidates += _one_line_uris(text)
    for uri in candidates:
        if _is_debian_archive(uri):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


def _one_line_uris(text: str) -> list[str]:
    uris = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if m and not _is_security_suite(m.group(2)):
            uris.append(m.group(1))
    return uris


def _deb822_uris(text: str) -> list[str]:
    uris = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        suites = fields.get("suites", "").split()
        if suites and all(_is_security_suite(s) for s in suites):
            continue
        uris += fields.get("uris", "").split()
    return uris


def _is_security_suite(suite: str) -> bool:
    return "security" in suite or suite.endswith("/updates")


def _is_debian_archive(uri: str) -> bool:
    """A plain Debian archive (not security, not Ubuntu, not a third-party repository)."""
    if not uri.startswith(("http://", "https://", "file:/")) or "security" in uri:
        return False
    return uri.rstrip("/").endswith("/debian")


@contextmanager
def _lock(path: Path, timeout: float) -> Iterator[None]:
    """Exclusive lock so two processes never build the same root at once (bounded wait)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AsteriskError(
                        f"{path}: another process is still provisioning the Asterisk root"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_marker(root: Path) -> dict | None:
    try:
        return json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None


def is_provisioned(root: Path, packages: tuple[str, ...] | None = None) -> bool:
    marker = read_marker(root)
    if marker is None:
        return False
    return packages is None or set(packages) <= set(marker.get("packages", []))


def _safe_to_remove(root: Path) -> bool:
    resolved = root.resolve()
    forbidden = {
        Path("/"),
        Path.home().resolve(),
        Path("/var"),
        Path("/var/cache"),
        Path("/usr"),
        Path("/etc"),
    }
    return resolved not in forbidden and len(resolved.parts) >= 3 and not os.path.ismount(resolved)


def provision(
    root: Path,
    *,
    suite: str = "sid",
    mirror: str = "",
    packages: tuple[str, ...] = ("asterisk",),
    timeout: float = 1800.0,
    log_file: Path | None = None,
) -> bool:
    """Build the root if it is missing or half-built; returns True when it built one."""
    root = root.expanduser()
    with _lock(root.with_name(root.name + ".lock"), timeout):
        if is_provisioned(root, packages):
            fix_root(root)
            return False
        if shutil.which("debootstrap") is None:
            raise AsteriskError("debootstrap is not installed (run `make setup`, it installs it)")
        if os.geteuid() != 0:
            raise AsteriskError(
                "building the Asterisk root needs root (debootstrap and chroot); run as root "
                "or set ivr.asterisk.mode to host/external"
            )
        if root.exists():
            if not _safe_to_remove(root):
                raise AsteriskError(f"{root}: refusing to delete this directory to rebuild the Asterisk root")
            logger.warning("Asterisk root %s is incomplete or outdated: rebuilding it", root)
            shutil.rmtree(root)
        mirror = mirror or host_mirror()
        partial = root.with_name(root.name + ".partial")
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        partial.chmod(0o755)  # the root's "/": Asterisk's own user must pass through it
        cmd = [
            "debootstrap",
            "--variant=minbase",
            "--include=" + ",".join(packages),
            suite,
            str(partial),
            mirror,
        ]
        logger.info("building the Asterisk root: %s", " ".join(cmd))
        started = time.monotonic()
        log_path = log_file or root.with_name(root.name + ".debootstrap.log")
        with open(log_path, "wb") as log:
            try:
                # A system's usual umask: the hotline's private one (hotline.cli) would make the
                # root's directories unreadable to Asterisk's own user.
                proc = subprocess.run(
                    cmd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False, umask=0o022
                )
            except subprocess.TimeoutExpired:
                raise AsteriskError(
                    f"debootstrap took longer than {timeout:.0f} s; log: {log_path}"
                ) from None
        if proc.returncode != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise AsteriskError(
                f"debootstrap failed (exit {proc.returncode}) from {mirror}; log: {log_path}\n  "
                + "\n  ".join(tail)
            )
        fix_root(partial)
        (partial / MARKER).write_text(
            json.dumps(
                {
                    "suite": suite,
                    "mirror": mirror,
                    "packages": list(packages),
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "seconds": round(time.monotonic() - started, 1),
                }
            )
        )
        partial.rename(root)
        logger.info("Asterisk root ready in %.0f s: %s", time.monotonic() - started, root)
        return True


def fix_root(root: Path) -> None:
    """Ownerships and name resolution that make the root safe to run Asterisk from (idempotent)."""
    for rel in ROOT_OWNED:
        top = root / rel
        if not top.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                st = os.lstat(name)
                if st.st_uid != 0 or st.st_gid != 0:
                    os.lchown(name, 0, 0)
    # Every lookup stays on this machine: Asterisk must never query a DNS server off loopback.
    resolv = root / "etc" / "resolv.conf"
    want = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
    if resolv.is_symlink() or not resolv.exists() or resolv.read_text() != want:
        if resolv.is_symlink() or resolv.exists():
            resolv.unlink()
        resolv.write_text(want)
        resolv.chmod(0o644)  # read by Asterisk's own user
    hosts = root / "etc" / "hosts"
    if not hosts.exists() or "localhost" not in hosts.read_text():
        hosts.write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
        hosts.chmod(0o644)


def modules_dir(root: Path) -> str:
    """Where the root's Asterisk modules live (multiarch path, e.g. /usr/lib/x86_64-linux-gnu/...)."""
    for cand in sorted(root.glob("usr/lib/*/asterisk/modules")) + [root / "usr/lib/asterisk/modules"]:
        if cand.is_dir():
            return "/" + str(cand.relative_to(root))
    raise AsteriskError(f"{root}: no Asterisk modules directory found (is Asterisk installed there?)")
