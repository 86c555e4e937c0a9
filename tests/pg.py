"""A throw-away PostgreSQL cluster for the tests: Debian's server, a non-root user, a loopback port.

`tests/postgres-setup.sh` (run by `make test`) installs the server and, on a machine where the tests run
as root, the system user the cluster runs as: PostgreSQL refuses to run as root. The cluster lives in a
temporary directory, listens on 127.0.0.1 only, asks for a password, and is started once per test session
(lazily, by the first test that runs on PostgreSQL) and removed at the end.
"""

from __future__ import annotations

import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "hotline-pgtest"  # the system user tests/postgres-setup.sh creates when the tests run as root
SUPERUSER = "hotline"  # the cluster's own superuser (a role inside it, not a system user)
SHM_NEEDED_BYTES = 1 << 30  # a cluster with its migrated template and a few tests' copies, with margin
START_ATTEMPTS = 3  # a free port taken by someone else between the check and the start: try another
PREFIX = "hotline-pg-"  # the clusters' temporary directories
OWNER_FILE = "owner.pid"  # the test process a cluster belongs to: a cluster whose owner is gone is removed


class PostgresUnavailable(RuntimeError):
    """The server is not installed, cannot run as a non-root user, or did not start."""


def server_bindir() -> Path:
    """Debian's server binaries (initdb, pg_ctl), the newest installed major version."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresUnavailable("PostgreSQL is not installed (run tests/postgres-setup.sh or `make test`)")
    return found[-1].parent


def _scratch_dir() -> str | None:
    """Memory (/dev/shm) when it has room, else the temporary directory: a database is hundreds of small
    files, and creating and removing them on a busy disk costs seconds."""
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if st.f_bavail * st.f_frsize >= SHM_NEEDED_BYTES else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    root: Path  # the temporary directory: data/, the log, the socket
    port: int
    password: str
    run_as: list[str]  # prefix that runs a server command as the non-root user ([] when we are not root)
    bindir: Path
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _migrated: str = ""

    def migrated(self) -> str:
        """The name of a database brought to every area's newest revision (once), to copy from."""
        if not self._migrated:
            from hotline.db import upgrade

            url = self.create_database()
            upgrade(url)
            self._migrated = url.rsplit("/", 1)[1]
        return self._migrated

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`); returns its URL."""
        import psycopg

        name = f"t{next(self._names)}"
        dsn = f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={self.password} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            suffix = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{suffix}")  # names are ours: t<n>
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Removes a test's database (FORCE: connections a test left open are closed), so the cluster
        stays small: each copy is several megabytes of catalog files."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        dsn = f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={self.password} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # names are ours: t<n>

    def log_tail(self, lines: int = 20) -> str:
        log = self.root / "server.log"
        if not log.is_file():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        # immediate: nothing in a throw-away cluster needs a clean shut-down checkpoint.
        subprocess.run(
            [
                *self.run_as,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "-w",
                "-t",
                "30",
                "stop",
            ],
            capture_output=True,
            cwd=self.root,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as() -> tuple[list[str], int | None, int | None]:
    if os.geteuid() != 0:
        return [], None, None
    try:
        user = pwd.getpwnam(PG_USER)
    except KeyError as exc:
        raise PostgresUnavailable(
            f"the tests run as root and PostgreSQL refuses to: the system user {PG_USER!r} is missing "
            "(run tests/postgres-setup.sh or `make test`)"
        ) from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable(
            "runuser (util-linux) is missing: cannot start PostgreSQL as a non-root user"
        )
    return [runuser, "-u", PG_USER, "--"], user.pw_uid, user.pw_gid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_leftovers(run_as: list[str], bindir: Path) -> list[Path]:
    """Stops and removes clusters whose test process died without its clean-up (killed with SIGKILL),
    so they do not keep running and holding memory; a running test session's cluster is left alone."""
    removed = []
    for base in {_scratch_dir() or tempfile.gettempdir(), tempfile.gettempdir()}:
        for root in Path(base).glob(f"{PREFIX}*"):
            try:
                owner = int((root / OWNER_FILE).read_text())
            except (OSError, ValueError):
                continue  # not ours, or still being created
            if _alive(owner):
                continue
            Cluster(root, 0, "", run_as, bindir).stop()
            removed.append(root)
    return removed


def start_cluster() -> Cluster:
    """initdb + pg_ctl start in a new temporary directory; raises PostgresUnavailable with the reason."""
    bindir = server_bindir()
    run_as, uid, gid = _run_as()
    reap_leftovers(run_as, bindir)
    root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=_scratch_dir()))
    password = secrets.token_urlsafe(18)
    try:
        (root / OWNER_FILE).write_text(str(os.getpid()))
        if uid is not None and gid is not None:
            os.chown(root, uid, gid)
        pwfile = root / "pw"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if uid is not None and gid is not None:
            os.chown(pwfile, uid, gid)
        init = subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            cwd=root,  # the non-root user may not enter the directory the tests run from
            timeout=120,
            check=False,
        )
        pwfile.unlink()
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-600:]}")
        last = ""
        for _ in range(START_ATTEMPTS):
            cluster = Cluster(root, _free_port(), password, run_as, bindir)
            # Durability is not what the tests check: no fsync makes each CREATE DATABASE and commit cheap.
            options = (
                f"-p {cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            start = subprocess.run(
                [
                    *run_as,
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(root / "data"),
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "-t",
                    "30",
                    "-o",
                    options,
                    "start",
                ],
                capture_output=True,
                text=True,
                cwd=root,
                timeout=60,
                check=False,
            )
            if start.returncode == 0:
                return cluster
            last = cluster.log_tail() or start.stderr.strip()
        raise PostgresUnavailable(f"PostgreSQL did not start: {last[-800:]}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
