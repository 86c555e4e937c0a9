"""Start and stop the Asterisk instance the settings describe (chroot, host or external): config, prompts."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from asterisk.handle import (
    AsteriskHandle,
    handle_for,
    state_dir,
    wait_for_ari,
)
from asterisk.instance import (
    CLEAN_ENV,
    asterisk_command,
    port_in_use,
    stop_instance,
)
from asterisk.provision import AsteriskError, modules_dir, provision
from asterisk.render import Layout, install_tls, render_config, render_prompts
from asterisk.run_user import hand_over_instance, run_user
from asterisk.trunk_config import trunk_values
from asterisk.workers import workers_values
from core.yamlfile import load_yaml
from voice.tts import Synthesizer

if TYPE_CHECKING:
    from asterisk.settings import AsteriskConfig

logger = logging.getLogger(__name__)


def start(settings: AsteriskConfig) -> AsteriskHandle:
    """Provision if needed, render the config, start Asterisk in the background, wait for ARI."""
    cfg = settings.ivr.asterisk
    handle = handle_for(settings)
    if cfg.mode == "external":
        raise AsteriskError("ivr.asterisk.mode is external: Asterisk runs elsewhere, nothing to start here")
    if handle.pid is not None:
        wait_for_ari(handle, cfg.start_timeout)
        return handle
    layout = handle.layout
    assert layout is not None and handle.secrets is not None
    if cfg.mode == "chroot":
        provision(layout.root, suite=cfg.suite, mirror=cfg.mirror, packages=tuple(cfg.packages))
    elif not Path(cfg.binary).exists():
        raise AsteriskError(f"ivr.asterisk.mode is host but {cfg.binary} does not exist (install asterisk)")
    listeners = [
        (cfg.bind_address, cfg.sip_port, socket.SOCK_DGRAM, "sip_port"),
        (cfg.http_address, cfg.http_port, socket.SOCK_STREAM, "http_port"),
    ]
    http_tls = None
    if cfg.http_tls_cert_file and cfg.http_tls_key_file:  # ARI over TLS on http_bind_address
        listeners.append((cfg.http_bind_address, cfg.http_tls_port, socket.SOCK_STREAM, "http_tls_port"))
        cert, key = settings.path(cfg.http_tls_cert_file), settings.path(cfg.http_tls_key_file)
        http_tls = install_tls(layout, cert, key, cfg.http_bind_address, cfg.http_tls_port)
    for host, port, kind, what in listeners:
        if port_in_use(host, port, kind):
            raise AsteriskError(f"ivr.asterisk.{what}: {host}:{port} is already in use")
    values = {
        "bind": cfg.bind_address,
        "sip_port": cfg.sip_port,
        "http_bind": cfg.http_address,
        "http_port": cfg.http_port,
        "http_tls": http_tls,
        "rtp_start": cfg.rtp_port_start,
        "rtp_end": cfg.rtp_port_end,
        "ari_user": cfg.ari_user,
        "ari_password": handle.ari_password,
        "caller_password": handle.secrets.caller_password,
        "operators": [
            {"user": user, "password": password}
            for user, password in zip(handle.operator_users, handle.secrets.operator_passwords, strict=True)
        ],
        "operator_dial": "&".join(f"PJSIP/{user}" for user in handle.operator_users),  # fallback: ring all
        "app_name": settings.ivr.app_name,
        "system_name": cfg.system_name,
        "extension": cfg.extension,
        "prompt_extension": cfg.prompt_extension,
        "operator_ring_seconds": cfg.operator_ring_seconds,
        "message_max_seconds": cfg.message_max_seconds,
        "modules_dir": modules_dir(layout.root),
        **trunk_values(cfg, handle.secrets),
        **workers_values(settings.ivr.workers, handle.secrets.worker_password),
    }
    render_config(settings.path("config/asterisk"), layout, values)
    _render_fallback_prompts(settings, layout)
    sdir = state_dir(settings)
    sdir.mkdir(parents=True, exist_ok=True)
    link = sdir / "instance"
    if layout.root != Path("/") and not link.exists():
        link.unlink(missing_ok=True)
        link.symlink_to(layout.host_inst)
    # A stale control socket from a killed instance would make `-rx` talk to nothing.
    (layout.host_inst / "run" / "asterisk.ctl").unlink(missing_ok=True)
    user = run_user(layout, cfg.mode)
    if user is not None:
        hand_over_instance(layout, user)
        as_user = user.asterisk_args()
    else:  # root in host mode stays root: Debian's default user would not reach the data directory
        as_user = ("-U", "root", "-G", "root") if os.geteuid() == 0 else ()
    cmd = asterisk_command(layout, str(cfg.binary), "-f", "-n", *as_user)
    with open(sdir / "console.log", "ab") as console:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=CLEAN_ENV,
            start_new_session=True,
        )
    handle.pid, handle.owned, handle._proc = proc.pid, True, proc
    (sdir / "asterisk.pid").write_text(f"{proc.pid}\n")
    started = time.monotonic()
    try:
        version = wait_for_ari(handle, cfg.start_timeout, proc)
    except BaseException:
        stop_instance(layout, proc.pid, timeout=cfg.stop_timeout, proc=proc, binary=str(cfg.binary))
        (sdir / "asterisk.pid").unlink(missing_ok=True)
        raise
    (sdir / "state.json").write_text(
        json.dumps(
            {
                "pid": proc.pid,
                "mode": cfg.mode,
                "root": str(layout.root),
                "inst": layout.inst,
                "ari_url": handle.ari_url,
                "sip_port": cfg.sip_port,
                "version": version,
            }
        )
    )
    logger.info(
        "Asterisk %s up (pid %d) in %.1f s, ARI %s",
        version.split("+", 1)[0],  # Debian's suffix has long digit runs the log masking would hide
        proc.pid,
        time.monotonic() - started,
        handle.rest_url,
    )
    return handle


def _render_fallback_prompts(settings: AsteriskConfig, layout: Layout) -> None:
    """The apology and message prompts the dialplan plays when the application is down."""
    texts: dict[str, str] = {}
    prompts_file = settings.path("config/prompts.yaml")
    if prompts_file.exists():
        try:
            data = load_yaml(prompts_file).data or {}
            texts = {k: str(v) for k, v in (data.get("prompts") or {}).items() if v}
        except Exception as exc:  # a broken prompts file must not keep Asterisk down
            logger.warning("%s: not used for the fallback prompts: %s", prompts_file, exc)
    synth = None
    try:
        synth = Synthesizer.from_settings(settings)
    except Exception as exc:
        logger.warning("speech synthesis unavailable for the fallback prompts: %s", exc)

    def synthesize(text: str):  # -> AudioChunk
        return synth.synthesize_blocking(text, sample_rate=8000) if synth else None

    try:
        sources = render_prompts(layout, settings.path("audio_assets/prompts"), texts, synthesize)
    finally:
        if synth is not None:
            synth.close()
    logger.info("fallback prompts: %s", ", ".join(f"{k} ({v})" for k, v in sources.items()))


def stop(settings: AsteriskConfig) -> bool:
    """Stop our instance if it runs; True when something was stopped."""
    handle = handle_for(settings)
    if handle.pid is None:
        for name in ("asterisk.pid", "state.json"):
            (state_dir(settings) / name).unlink(missing_ok=True)
        return False
    handle.stop()
    return True


def ensure_running(settings: AsteriskConfig) -> AsteriskHandle:
    """What `hotline run` calls: connect to the configured Asterisk, starting ours when needed.

    chroot/host mode: reuse a running instance of this data dir or start one (handle.owned is True then).
    external mode: only check that ARI answers. Blocking: call it via asyncio.to_thread from async code.
    """
    cfg = settings.ivr.asterisk
    handle = handle_for(settings)
    if cfg.mode == "external":
        if not cfg.ari_url:
            raise AsteriskError("ivr.asterisk.mode is external but ivr.asterisk.ari_url is empty")
        if not cfg.ari_password:
            raise AsteriskError("ivr.asterisk.mode is external but ivr.asterisk.ari_password is empty")
        wait_for_ari(handle, cfg.start_timeout)
        return handle
    return start(settings)
