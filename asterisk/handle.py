"""A running or reachable Asterisk as the product sees it: where ARI and SIP are, ARI checks."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asterisk.instance import pid_is_asterisk, read_pid, run_cli, stop_instance
from asterisk.provision import AsteriskError
from asterisk.render import Layout
from asterisk.secrets import (
    AsteriskSecrets,
    ensure_gateway_passwords,
    load_or_create,
    operator_users,
    read_worker_password,
)

if TYPE_CHECKING:
    from asterisk.settings import AsteriskConfig

logger = logging.getLogger(__name__)


@dataclass
class AsteriskHandle:
    """A running (or reachable) Asterisk: where ARI and SIP are, with small ARI helpers for checks."""

    mode: str
    ari_url: str  # base URL without /ari, e.g. http://127.0.0.1:8088
    ari_user: str
    ari_password: str
    app_name: str
    sip_host: str
    sip_port: int
    extension: str
    prompt_extension: str
    pid: int | None = None
    owned: bool = False  # True when this handle started Asterisk (and should stop it)
    layout: Layout | None = None
    secrets: AsteriskSecrets | None = None
    state_dir: Path | None = None
    stop_timeout: float = 10.0
    binary: str = "/usr/sbin/asterisk"
    operator_seats: int = 1  # operator endpoints in our pjsip.conf: operator, operator2, ...
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def rest_url(self) -> str:
        return self.ari_url.rstrip("/") + "/ari"

    def events_url(self, app: str | None = None, subscribe_all: bool = False) -> str:
        """WebSocket URL of the ARI event stream for `app` (default: the hotline's app)."""
        ws = "ws" + self.ari_url[4:] if self.ari_url.startswith("http") else self.ari_url
        extra = "&subscribeAll=true" if subscribe_all else ""
        return f"{ws.rstrip('/')}/ari/events?app={app or self.app_name}{extra}"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.ari_user, self.ari_password)

    @property
    def log_file(self) -> Path | None:
        return self.layout.log_file if self.layout else None

    @property
    def sounds_dir(self) -> Path | None:
        """Host path of a directory Asterisk can play from (see sound_uri); None in external mode."""
        return self.layout.host_inst / "sounds" if self.layout else None

    def sound_uri(self, name: str) -> str:
        """ARI media URI for `<sounds_dir>/<name>` (name without extension: Asterisk picks the format)."""
        if self.layout is None:
            raise AsteriskError("external mode: Asterisk cannot see local files (use sound:http://...)")
        return f"sound:{self.layout.sounds}/{name}"

    @property
    def messages_dir(self) -> Path | None:
        """Where the dialplan stores messages left while the application was down."""
        return self.layout.messages_dir if self.layout else None

    def ari(self, method: str, path: str, **kwargs: Any) -> Any:
        """One blocking ARI request (for tools and tests; the application uses its async client)."""
        import httpx

        resp = httpx.request(
            method, self.rest_url + path, auth=self.auth, timeout=kwargs.pop("timeout", 5.0), **kwargs
        )
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def info(self) -> dict:
        return self.ari("GET", "/asterisk/info")

    def channels(self) -> list[dict]:
        return self.ari("GET", "/channels")

    @property
    def operator_users(self) -> tuple[str, ...]:
        """SIP user names of the operator seats (seat 1 first)."""
        return operator_users(self.operator_seats)

    def seat_states(self) -> dict[str, str]:
        """Seat user -> its ARI endpoint state ("online" while a phone is registered, else "offline")."""
        out = {}
        for user in self.operator_users:
            try:
                out[user] = str(self.ari("GET", f"/endpoints/PJSIP/{user}").get("state") or "unknown")
            except Exception:  # a seat the running Asterisk does not have (started with fewer seats)
                out[user] = "not configured"
        return out

    def bridges(self) -> list[dict]:
        return self.ari("GET", "/bridges")

    def cli(self, command: str, timeout: float = 10.0) -> str:
        """Run one Asterisk CLI command (`asterisk -rx`) and return its output."""
        if self.layout is None:
            raise AsteriskError("the CLI is only available for an Asterisk we run (chroot or host mode)")
        return run_cli(self.layout, command, timeout=timeout, binary=self.binary)

    def alive(self) -> bool:
        return self.pid is not None and pid_is_asterisk(self.pid, self.layout)

    def adopt(self, restarted: AsteriskHandle) -> None:
        """Take over the instance `restarted` started in place of ours (so `stop()` stops that one)."""
        self.pid, self._proc = restarted.pid, restarted._proc

    def stop(self) -> None:
        """Stop Asterisk cleanly (`core stop now`), killing it if it does not exit in time."""
        if self.layout is None or self.pid is None:
            return
        stop_instance(self.layout, self.pid, timeout=self.stop_timeout, proc=self._proc, binary=self.binary)
        if self.state_dir is not None:
            for name in ("asterisk.pid", "state.json"):
                (self.state_dir / name).unlink(missing_ok=True)
        self.pid = None

    def describe(self) -> str:
        lines = [
            f"Asterisk ({self.mode})" + (f" pid {self.pid}" if self.pid else ""),
            f"  ARI:  {self.rest_url}  user {self.ari_user}  app {self.app_name}",
            f"  SIP:  udp {self.sip_host}:{self.sip_port}  hotline extension {self.extension}",
        ]
        if self.mode != "external":
            lines.append(f"  operator seats: {', '.join(self.operator_users)}")
        if self.log_file:
            lines.append(f"  log:  {self.log_file}")
        if self.layout is not None:  # what a fail2ban jail reads (config/fail2ban/)
            lines.append(f"  security log: {self.layout.security_log}")
        return "\n".join(lines)

    def how_to_call(self) -> str:
        """What to tell a person who wants to call the hotline (demo tool and softphone settings)."""
        lines = ["Call it:    hotline call --audio SPEECH.wav --record heard.wav --json"]
        if self.secrets is not None:
            where = self.state_dir / "secrets.json" if self.state_dir else "secrets.json"
            lines.append(
                f"Softphone:  SIP server {self.sip_host}:{self.sip_port} (UDP), user caller, password "
                f"caller_password in {where}, codec G.711 u-law, DTMF RFC 2833; dial {self.extension}"
            )
            users = self.operator_users
            seat = "" if len(users) == 1 else " [--seat N]"
            softphone = (
                "user operator, password operator_password"
                if len(users) == 1
                else f"user {' / '.join(users)}, password <user>_password"
            )
            lines.append(
                f"Operator:   hotline operator-agent{seat} --play HELLO.wav --record operator.wav   (answers "
                f"transfers, key 0; or register a softphone as {softphone})"
            )
        return "\n".join(lines)


def state_dir(settings: AsteriskConfig) -> Path:
    return settings.data_dir / "asterisk"


def layout_for(settings: AsteriskConfig) -> Layout:
    """Instance directory: one per data dir, so the service and test runs never share run/ or etc/."""
    cfg = settings.ivr.asterisk
    if cfg.mode == "host":
        return Layout(root=Path("/"), inst=str(state_dir(settings).resolve() / "instance"))
    key = hashlib.sha1(str(settings.data_dir.resolve()).encode()).hexdigest()[:12]
    return Layout(root=settings.path(cfg.rootfs_dir), inst=f"/srv/hotline/{key}")


def _secrets(settings: AsteriskConfig) -> AsteriskSecrets:
    # A call worker on another machine reads the Asterisk machine's file (copied): the same ARI password,
    # prompt PIN and worker password, never credentials of its own that Asterisk does not know.
    copy = settings.ivr.workers.secrets_file
    path = settings.path(copy) if copy is not None else state_dir(settings) / "secrets.json"
    cfg = settings.ivr.asterisk
    ensure_gateway_passwords(path, tuple(t.name for t in cfg.trunks if t.kind == "gateway"))
    return load_or_create(path, cfg.operator_seats)


def handle_for(settings: AsteriskConfig) -> AsteriskHandle:
    """A handle built from the settings (nothing started; pid filled in if our instance is running)."""
    cfg = settings.ivr.asterisk
    sec = _secrets(settings) if (cfg.mode != "external" or not cfg.ari_password) else None
    password = cfg.ari_password or (sec.ari_password if sec else "")
    url = cfg.ari_url or f"http://{_url_host(cfg.http_address)}:{cfg.http_port}"
    layout = layout_for(settings) if cfg.mode != "external" else None
    handle = AsteriskHandle(
        mode=cfg.mode,
        ari_url=url,
        ari_user=cfg.ari_user,
        ari_password=password,
        app_name=settings.ivr.app_name,
        sip_host=cfg.bind_address,
        sip_port=cfg.sip_port,
        extension=cfg.extension,
        prompt_extension=cfg.prompt_extension,
        layout=layout,
        secrets=sec,
        state_dir=state_dir(settings),
        stop_timeout=cfg.stop_timeout,
        binary=str(cfg.binary),
        operator_seats=cfg.operator_seats,
    )
    if layout is not None:
        pid = read_pid(state_dir(settings) / "asterisk.pid")
        if pid is not None and pid_is_asterisk(pid, layout):
            handle.pid = pid
    return handle


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def ari_ready(handle: AsteriskHandle, timeout: float = 2.0) -> tuple[bool, str]:
    """(True, version) when ARI answers with these credentials; (False, reason) otherwise."""
    import httpx

    try:
        resp = httpx.get(handle.rest_url + "/asterisk/info", auth=handle.auth, timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"no answer from {handle.rest_url} ({type(exc).__name__})"
    if resp.status_code == 401:
        return False, f"{handle.rest_url}: ARI refused the credentials of user {handle.ari_user}"
    if resp.status_code != 200:
        return False, f"{handle.rest_url}: HTTP {resp.status_code}"
    try:
        return True, str(resp.json().get("system", {}).get("version", "?"))
    except ValueError:
        return False, f"{handle.rest_url}: not an ARI answer"


def wait_for_ari(handle: AsteriskHandle, timeout: float, proc: subprocess.Popen | None = None) -> str:
    """Poll ARI until it answers (bounded); raise with the log tail if Asterisk dies or times out."""
    deadline = time.monotonic() + timeout
    reason = ""
    while time.monotonic() < deadline:
        ok, reason = ari_ready(handle, timeout=1.0)
        if ok:
            return reason
        if proc is not None and proc.poll() is not None:
            raise AsteriskError(
                f"Asterisk exited with code {proc.returncode} while starting{_log_tail(handle)}"
            )
        if "refused the credentials" in reason:
            break
        time.sleep(0.2)
    raise AsteriskError(f"ARI did not answer within {timeout:.0f} s: {reason}{_log_tail(handle)}")


def _log_tail(handle: AsteriskHandle, lines: int = 8) -> str:
    out = []
    for path in (handle.state_dir / "console.log" if handle.state_dir else None, handle.log_file):
        if path is not None and path.exists():
            tail = path.read_text(errors="replace").strip().splitlines()[-lines:]
            if tail:
                out.append(f"\n  {path}:\n    " + "\n    ".join(tail))
    return "".join(out)


def worker_password(settings: AsteriskConfig) -> str:
    """The password Asterisk presents to the call workers (ARI outbound WebSockets)."""
    copy = settings.ivr.workers.secrets_file
    if copy is not None:
        return read_worker_password(settings.path(copy))
    return _secrets(settings).worker_password
