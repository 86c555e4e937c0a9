"""The user a chroot'd Asterisk runs as: the root's own `asterisk` system user, not root.

Debian's asterisk package creates that user inside the root we build. Asterisk starts as root (to enter
the chroot) and drops to it at once (`-U`/`-G`); everything it writes (logs, messages callers leave,
its database) is then that user's, and a flaw in Asterisk no longer runs as root. Its instance
directory is made the user's, private (0700/0600): the configuration holds passwords.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass

from asterisk.render import Layout

logger = logging.getLogger(__name__)

ASTERISK_USER = "asterisk"


@dataclass(frozen=True)
class RunUser:
    name: str
    uid: int
    gid: int

    def asterisk_args(self) -> tuple[str, ...]:
        """Asterisk's options that make it drop from root to this user and its group."""
        return ("-U", self.name, "-G", self.group_name)

    @property
    def group_name(self) -> str:
        return self.name  # Debian's package gives the user a group of the same name


def run_user(layout: Layout, mode: str) -> RunUser | None:
    """The user Asterisk should run as, or None to keep the one we are.

    Only a chroot'd Asterisk started by root switches: the user comes from the root's /etc/passwd,
    which is what Asterisk itself reads inside the chroot. In host mode the instance lives under the
    data directory, which is private to the hotline's user, so Asterisk keeps running as that user.
    """
    if mode != "chroot" or os.geteuid() != 0:
        return None
    try:
        lines = (layout.root / "etc" / "passwd").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == ASTERISK_USER and fields[2].isdigit() and fields[3].isdigit():
            uid, gid = int(fields[2]), int(fields[3])
            return RunUser(ASTERISK_USER, uid, gid) if uid != 0 else None
    logger.warning("%s: no %s user; Asterisk runs as root", layout.root / "etc" / "passwd", ASTERISK_USER)
    return None


def hand_over_instance(layout: Layout, user: RunUser) -> None:
    """Make the instance directory the user's and private; let it reach that directory in the root."""
    inst = layout.host_inst
    for dirpath, dirnames, filenames in os.walk(inst):
        for name in (dirpath, *(os.path.join(dirpath, n) for n in (*dirnames, *filenames))):
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode):
                continue
            if (st.st_uid, st.st_gid) != (user.uid, user.gid):
                os.lchown(name, user.uid, user.gid)
            private = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            if stat.S_IMODE(st.st_mode) != private:
                os.chmod(name, private)
    # The directories between the root and the instance (srv/hotline/) stay root's; the user only
    # needs to pass through them (created under a private umask they would shut it out).
    parent = inst.parent
    while parent != layout.root and layout.root in parent.parents:
        mode = stat.S_IMODE(parent.stat().st_mode)
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)
        parent = parent.parent
