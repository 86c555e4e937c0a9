"""Render our Asterisk configuration (config/asterisk/*.conf templates) and fallback prompts."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError
from voice.audio import read_audio, resample, to_mono, write_wav

if TYPE_CHECKING:
    from voice.audio import AudioChunk

logger = logging.getLogger(__name__)

TEMPLATES = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "http.conf",
    "ari.conf",
    "websocket_client.conf",
    "rtp.conf",
    "pjsip.conf",
    "extensions.conf",
    "cdr.conf",
    "cel.conf",
)
# Prompts the dialplan plays by itself when the application is down. Keys follow config/prompts.yaml
# (whose text wins when the key is there); a human recording in audio_assets/prompts/<key>.wav wins
# over both, else the configured TTS reads the text (espeak-ng directly if TTS is unavailable).
FALLBACK_PROMPTS = {
    "app_unavailable": "Xin lỗi anh chị, hệ thống trả lời tự động đang tạm gián đoạn. "
    "Cuộc gọi sẽ được chuyển tới cán bộ trực.",
    "operator_unavailable": "Hiện chưa có cán bộ nào nghe máy. Mời anh chị để lại lời nhắn sau tiếng bíp, "
    "nói xong thì bấm phím thăng.",
    # A trunk at its limit of simultaneous calls (played as early media, before any answer).
    "lines_busy": "Xin lỗi anh chị, tất cả các đường dây của tổng đài đang bận. "
    "Mời anh chị gọi lại sau ít phút. Xin cảm ơn.",
}


@dataclass(frozen=True)
class Layout:
    """Where one Asterisk instance keeps its files: `inst` as Asterisk sees it, `host_inst` from here."""

    root: Path  # the filesystem root Asterisk runs in ("/" in host mode)
    inst: str  # instance directory as seen by Asterisk (inside the root)

    @property
    def host_inst(self) -> Path:
        return self.root / self.inst.lstrip("/")

    @property
    def conf(self) -> str:
        return f"{self.inst}/etc/asterisk.conf"

    @property
    def sounds(self) -> str:
        return f"{self.inst}/sounds"

    @property
    def log_file(self) -> Path:
        return self.host_inst / "log" / "messages.log"

    @property
    def security_log(self) -> Path:
        """Asterisk's security events (failed authentication, unknown accounts): what fail2ban reads."""
        return self.host_inst / "log" / "security.log"

    @property
    def messages_dir(self) -> Path:
        return self.host_inst / "spool" / "messages"

    def host_path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")


def render_config(template_dir: Path, layout: Layout, values: dict[str, object]) -> list[Path]:
    """Write every template into the instance's etc/ (atomically per file); returns the written paths."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    etc = layout.host_inst / "etc"
    for sub in ("etc", "run", "log", "spool", "spool/messages", "lib", "cache", "sounds"):
        (layout.host_inst / sub).mkdir(parents=True, exist_ok=True)
    context = {"inst": layout.inst, "sounds": layout.sounds, **values}
    written = []
    for name in TEMPLATES:
        if not (template_dir / name).is_file():
            raise ConfigError(f"{template_dir / name}: Asterisk config template missing")
        try:
            text = env.get_template(name).render(**context)
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{template_dir / name}:{line}" if line else str(template_dir / name)
            raise ConfigError(f"{where}: {exc}") from None
        target = etc / name
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)  # holds passwords
        tmp.replace(target)
        written.append(target)
    return written


def install_tls(layout: Layout, cert: Path, key: Path, bind: str, port: int) -> dict[str, str]:
    """Copy ARI's TLS certificate and key into the instance (a chroot'd Asterisk sees nothing outside it).

    Returns http.conf's TLS values: `bind` (address:port), `cert` and `key` as Asterisk sees them.
    """
    tls_dir = layout.host_inst / "etc" / "tls"
    tls_dir.mkdir(parents=True, exist_ok=True)
    out = {"bind": f"[{bind}]:{port}" if ":" in bind else f"{bind}:{port}"}
    for name, source in (("cert", cert), ("key", key)):
        try:
            data = source.read_bytes()
        except OSError as exc:
            setting = f"ivr.asterisk.http_tls_{name}_file"
            raise ConfigError(f"{setting}: cannot read {source}: {exc.strerror}") from None
        target = tls_dir / f"ari-{name}.pem"
        tmp = target.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # created afresh below: mode 0600 from the first byte
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the key: never world-readable
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        tmp.replace(target)
        out[name] = f"{layout.inst}/etc/tls/ari-{name}.pem"
    return out


def render_prompts(
    layout: Layout,
    prompts_dir: Path,
    texts: dict[str, str] | None = None,
    synthesize: Callable[[str], AudioChunk | None] | None = None,
) -> dict[str, str]:
    """Make 8 kHz WAV fallback prompts in the instance's sounds/; returns key -> source used."""

    out: dict[str, str] = {}
    sounds = layout.host_inst / "sounds"
    sounds.mkdir(parents=True, exist_ok=True)
    for key, default in FALLBACK_PROMPTS.items():
        text = (texts or {}).get(key) or default
        target = sounds / f"{key}.wav"
        human = prompts_dir / f"{key}.wav"
        stamp_file = sounds / f"{key}.source"
        stamp = _stamp(human, text)
        if target.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
            out[key] = stamp.split(":", 1)[0]
            continue
        chunk: AudioChunk | None = None
        source = "recording"
        if human.is_file():
            chunk = read_audio(human)
        else:
            source = "tts"
            chunk = _safe(synthesize, text) if synthesize else None
            if chunk is None:
                source = "espeak-ng"
                chunk = _espeak(text)
        if chunk is None:
            # Last resort: a stock Debian prompt, so the caller still hears something.
            logger.warning("no recording and no speech synthesis for prompt %s: using a stock prompt", key)
            stock = layout.host_path("/usr/share/asterisk/sounds/en_US_f_Allison/an-error-has-occurred.gsm")
            if stock.exists():
                shutil.copyfile(stock, sounds / f"{key}.gsm")
                target.unlink(missing_ok=True)
            out[key] = "stock"
            continue
        (sounds / f"{key}.gsm").unlink(missing_ok=True)
        write_wav(target, resample(to_mono(chunk), 8000))
        stamp_file.write_text(stamp)
        out[key] = source
    return out


def _safe(synthesize: Callable[[str], AudioChunk | None], text: str) -> AudioChunk | None:
    try:
        return synthesize(text)
    except Exception as exc:  # any engine failure: fall back to espeak-ng, never to silence
        logger.warning("speech synthesis failed for a fallback prompt: %s", exc)
        return None


def _stamp(human: Path, text: str) -> str:
    """What a rendered prompt was made from; a change re-renders it."""
    try:
        st = human.stat()
        return f"recording:{human}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return "tts:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _espeak(text: str) -> AudioChunk | None:

    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "prompt.wav"
        try:
            subprocess.run(
                [exe, "-v", "vi", "-s", "150", "-w", str(wav), text],
                check=True,
                timeout=60,
                capture_output=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            logger.warning("espeak-ng failed for a fallback prompt: %s", exc)
            return None
        return read_audio(wav)
