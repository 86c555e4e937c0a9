"""systemd units for a production host: Asterisk, the call application (supervised), the web app.

`hotline service-units --out /etc/systemd/system --user hotline` renders them for this installation
(its `hotline` command, config file, data and cache directories); `systemctl daemon-reload` and
`systemctl enable --now hotline-asterisk hotline hotline-web` start them (and `hotline-jobs`, rendered when
jobs run on PostgreSQL, on a machine that runs jobs and no calls). With ARI outbound (ivr.workers), call
workers `hotline-worker@<port>` and `hotline-haproxy` replace the `hotline` unit.
"""

from __future__ import annotations

import grp
import pwd
import shutil
import sys
from pathlib import Path

import jinja2

from core.jobs import choose_mode
from hotline.settings import Settings

TEMPLATES = Path(__file__).with_name("systemd")
ASTERISK_UNIT = "hotline-asterisk.service"
JOBS_UNIT = "hotline-jobs.service"
WORKER_UNIT = "hotline-worker@.service"
HAPROXY_UNIT = "hotline-haproxy.service"


def written_elsewhere(settings: Settings) -> list[str]:
    """Directories the product writes that lie outside the data and cache directories (a shared mount for
    recordings, prompts and radio segments; the checkout's prompt recordings): writable in the units."""
    inside = [settings.data_dir.resolve(), settings.cache_dir.resolve()]
    review = settings.ivr.review.audio_dir
    storage = settings.broadcast.storage_dir
    candidates = [
        settings.data_dir / settings.ivr.recordings_dir,
        settings.data_dir / review,
        settings.path(settings.ivr.prompts_dir),
        *([settings.path(storage)] if storage else []),
    ]
    out: list[str] = []
    for path in candidates:
        resolved = path.resolve()
        if not any(resolved.is_relative_to(base) for base in inside) and str(resolved) not in out:
            out.append(str(resolved))
    return out


def render_units(settings: Settings, user: str, group: str | None = None) -> dict[str, str]:
    """File name -> text of each unit (no Asterisk unit when Asterisk runs elsewhere)."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ValueError(f"no such user: {user} (create it first, e.g. useradd --system {user})") from None
    group = group or grp.getgrgid(entry.pw_gid).gr_name
    paths = [settings.root, settings.data_dir, settings.cache_dir]
    under_home = any(str(p.resolve()).startswith(("/home/", "/root/")) for p in paths)
    external = settings.ivr.asterisk.mode == "external"
    values = {
        "hotline": str(Path(sys.executable).with_name("hotline")),
        "config": str(settings.config_file),
        "root": str(settings.root),
        "data_dir": str(settings.data_dir.resolve()),
        "cache_dir": str(settings.cache_dir.resolve()),
        "written_elsewhere": written_elsewhere(settings),
        "user": user,
        "group": group,
        "mode": settings.ivr.asterisk.mode,
        # The checkout or data under a home directory stays reachable, read-only but for the data.
        "protect_home": "read-only" if under_home else "yes",
        "asterisk_unit": "" if external else ASTERISK_UNIT,
        "haproxy": shutil.which("haproxy") or "/usr/sbin/haproxy",
        # A draining worker's calls may finish before systemd kills it (its supervisor waits as long).
        "drain_stop_seconds": int(settings.ivr.workers.drain_seconds) + 30,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    # Outbound ARI: call workers behind HAProxy instead of the one supervised application.
    calls = (
        [WORKER_UNIT, HAPROXY_UNIT] if settings.ivr.workers.ari_mode == "outbound" else ["hotline.service"]
    )
    names = [*calls, "hotline-web.service"] + ([] if external else [ASTERISK_UNIT])
    if choose_mode(settings.jobs.mode, settings.database_url) == "procrastinate":
        names.append(JOBS_UNIT)  # a job-only worker; with SQLite jobs run inside the call worker
    return {name: env.get_template(f"{name}.j2").render(**values) for name in names}
