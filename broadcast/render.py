"""Render a bulletin into a broadcast-ready segment: script, parallel TTS, assembly, mastering, outputs."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from broadcast.assemble import assemble, find_assets
from broadcast.audience import written_label
from broadcast.bulletin import Bulletin, BulletinError
from broadcast.communes import Commune, fold, load_communes
from broadcast.mastering import (
    db_to_gain,
    loudspeaker_profile,
    master,
    pcm16,
    true_peak,
)
from broadcast.models import HUMAN_ENGINE
from broadcast.mp3 import encode_and_measure, sha256_file, write_tags
from broadcast.reading import Reading, bulletin_record
from broadcast.script import Pauses, Script, build_script
from broadcast.templates import load_template
from core.errors import HotlineError
from voice.audio import AudioChunk, concat, silence, write_wav
from voice.tts import Synthesizer, select_engine

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
MP3_MARGIN_DB = 0.5  # MP3 encoding adds inter-sample overshoot: the master aims this far under the ceiling
MP3_ATTEMPTS = 4  # encode-measure-correct rounds before giving up on the loudness tolerance
LOUDNESS_TOLERANCE_LU = 0.3  # re-encode when the decoded MP3 is further than this from the target


class RenderError(HotlineError):
    """Rendering failed; nothing half-written is left behind."""

    code = "render"


@dataclass(frozen=True)
class RenderOptions:
    commune: str | None = (
        None  # render the commune's own greeting (name as typed; resolved against the dataset)
    )
    engine: str | None = None  # TTS engine; default: the bulletin's `voice`, then voice.tts.engine
    rate: float | None = None  # speaking rate; default: the bulletin's, then voice.tts.rate
    loudness_lufs: float | None = None  # default: broadcast.loudness_target_lufs
    loudspeaker: bool | None = None  # default: broadcast.loudspeaker_profile
    wav_master: bool | None = None  # default: broadcast.wav_master
    bitrate_kbps: int | None = None  # default: broadcast.mp3_bitrate_kbps


@dataclass
class EncoderHint:
    """What the MP3 encoder did to the previous render of the same programme (loudness moved, peaks
    added): the next commune's version starts mastering from there and is usually right first time."""

    aim_offset_db: float = 0.0  # master this far from the target to land on it after encoding
    ceiling_dbtp: float | None = None  # the limiter ceiling that kept the decoded MP3 under the maximum


@dataclass
class RenderResult:
    mp3: Path
    sidecar: Path
    wav: Path | None
    info: dict = field(default_factory=dict)  # the sidecar content

    @property
    def duration_s(self) -> float:
        return float(self.info["duration_s"])


def slugify(text: str, limit: int = 60) -> str:
    """ASCII file-name part: "Dịch vụ công trực tuyến" -> "dich-vu-cong-truc-tuyen"."""
    return "-".join(fold(text).split())[:limit].strip("-") or "ban-tin"


def segment_key(bulletin: Bulletin, commune: Commune | None) -> str:
    """Stable identity of a segment: re-rendering the same bulletin replaces it."""
    key = f"{bulletin.meta.date.isoformat()}-{slugify(bulletin.meta.title)}"
    return f"{key}--{commune.slug}" if commune else key


def target_communes(bulletin: Bulletin, settings) -> list[Commune] | None:  # None: every commune
    """Resolve the bulletin's `communes:` against the dataset (unknown names fail with suggestions)."""
    if bulletin.meta.communes == "all":
        return None
    index = load_communes(settings.broadcast.province)
    out: list[Commune] = []
    for name in bulletin.meta.communes:
        try:
            c = index.resolve(name)
        except HotlineError as exc:
            raise BulletinError(
                f"{bulletin.path}: communes (các xã, phường nhận tin): {exc}", code="unknown_commune"
            ) from None
        if c not in out:
            out.append(c)
    return out


def template_id(bulletin: Bulletin, cfg) -> str:  # cfg: broadcast.settings.BroadcastSettings
    """The bulletin's own template; else the emergency notice for emergencies; else the default column."""
    if bulletin.meta.template:
        return bulletin.meta.template
    if bulletin.meta.priority == "emergency" and cfg.emergency_template:
        return str(cfg.emergency_template)
    return str(cfg.default_template)


class SpeechRenderer:
    """Sentence-by-sentence TTS in a bounded pool; owns a `voice.tts.Synthesizer` unless given one.

    With `reuse`, a sentence already spoken (same text, voice, speed and rate) is not synthesized again:
    one bulletin rendered with each commune's own greeting speaks its shared body once.
    """

    def __init__(self, settings, synthesizer=None, *, reuse: bool = False) -> None:  # settings: Settings
        self.settings = settings
        self._own = synthesizer is None
        if synthesizer is None:
            synthesizer = Synthesizer.from_settings(settings)
        self.synth = synthesizer
        self._spoken: dict[tuple[str, str | None, float | None, int], AudioChunk] | None = (
            {} if reuse else None
        )
        self.synthesized = 0  # sentences sent to the synthesizer (the rest were reused)

    def engine_info(self, engine: str | None) -> tuple[str, str]:
        """(engine name, voice id) actually used."""

        name = select_engine(engine, self.settings.voice.tts.engine)
        return name, self.synth.registry.get(name).voice_id

    def speak(
        self,
        sentences: list[tuple[str, int]],
        *,
        rate: int,
        engine: str | None,
        speed: float | None,
        workers: int,
        pause_sentence_ms: int,
        progress: Progress | None = None,
    ) -> AudioChunk:
        """All sentences with their pauses, as one clip at `rate`."""
        total = len(sentences)
        done = 0

        def one(text: str) -> AudioChunk:
            return self.synth.synthesize_blocking(text, rate=speed, engine=engine, sample_rate=rate)

        spoken = self._spoken if self._spoken is not None else {}
        pieces: list[AudioChunk] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="broadcast-tts") as pool:
            # One synthesis per distinct sentence not spoken before (the Future carries it to each use).
            todo: dict[tuple[str, str | None, float | None, int], Future[AudioChunk]] = {}
            for text, _ in sentences:
                key = (text, engine, speed, rate)
                if key not in spoken and key not in todo:
                    todo[key] = pool.submit(one, text)
            self.synthesized += len(todo)
            try:
                for text, pause in sentences:
                    key = (text, engine, speed, rate)
                    if key not in spoken:
                        spoken[key] = todo[key].result()
                    chunk = spoken[key]
                    pieces.append(chunk)
                    gap = pause_sentence_ms if pause < 0 else pause
                    if gap:
                        pieces.append(silence(gap / 1000, rate))
                    done += 1
                    if progress:
                        progress("speech", done, total)
            except BaseException:
                for f in todo.values():
                    f.cancel()
                raise
        return concat(pieces)

    def close(self) -> None:
        if self._own:
            self.synth.close()


def render_bulletin(
    bulletin: Bulletin,
    settings,  # hotline.settings.Settings
    out_dir: Path,
    *,
    options: RenderOptions | None = None,
    speech: SpeechRenderer | None = None,
    progress: Progress | None = None,
    basename: str | None = None,
    hint: EncoderHint | None = None,
    reading: Reading | None = None,
) -> RenderResult:
    """Render into `out_dir` atomically: either every output file appears, or none does.

    `speech` (with `reuse`) and `hint` are shared by the versions of one bulletin for many communes.
    `reading`: a person read the script; it replaces the synthesized speech, the rest is the same.
    """
    options = options or RenderOptions()
    cfg = settings.broadcast
    meta = bulletin.meta
    started = time.perf_counter()
    index = load_communes(cfg.province)
    commune = index.resolve(options.commune) if options.commune else None
    targets = target_communes(bulletin, settings)
    if commune is not None and targets is not None and commune not in targets:
        names = ", ".join(c.name for c in targets)
        raise BulletinError(
            f"{bulletin.path}: {commune.name} không nằm trong các xã, phường nhận bản tin này ({names}); "
            "bỏ --commune hoặc thêm xã này vào communes:",
            code="unknown_commune",
        )
    template = load_template(settings.path(cfg.templates_dir), template_id(bulletin, cfg))
    assets = find_assets(
        settings.path(cfg.jingles_dir),
        template.intro_jingle,
        template.outro_jingle,
        template.music_bed,
        template.id,
    )
    agency = meta.agency or cfg.default_agency
    script: Script = build_script(
        bulletin,
        template,
        commune=commune,
        province=cfg.province,
        agency=agency,
        pauses=Pauses(cfg.pause_sentence_ms, cfg.pause_paragraph_ms, cfg.pause_heading_ms),
        targets=targets,
    )
    target = cfg.loudness_target_lufs if options.loudness_lufs is None else options.loudness_lufs
    loudspeaker = cfg.loudspeaker_profile if options.loudspeaker is None else options.loudspeaker
    keep_wav = cfg.wav_master if options.wav_master is None else options.wav_master
    bitrate = options.bitrate_kbps or cfg.mp3_bitrate_kbps
    rate = cfg.sample_rate
    engine = options.engine or meta.voice
    speed = options.rate or meta.rate

    sentences = script.sentences
    if reading is not None:
        engine_name, voice_id, speed = HUMAN_ENGINE, "", None
        spoken = reading.chunk
        if progress:
            progress("speech", 1, 1)
    else:
        own_speech = speech is None
        speech = speech or SpeechRenderer(settings)
        try:
            engine_name, voice_id = speech.engine_info(engine)
            spoken = speech.speak(
                sentences,
                rate=rate,
                engine=engine_name,
                speed=speed,
                workers=cfg.workers,
                pause_sentence_ms=cfg.pause_sentence_ms,
                progress=progress,
            )
        finally:
            if own_speech:
                speech.close()
    tts_s = time.perf_counter() - started
    if progress:
        progress("mastering", 0, 1)
    use_bed = meta.music_bed and meta.priority != "emergency"  # an emergency notice is read without music
    programme = assemble(
        spoken,
        assets,
        rate,
        bed_level_db=cfg.bed_level_db,
        bed_duck_db=cfg.bed_duck_db,
        use_bed=use_bed,
    )
    del spoken  # the programme holds the speech now
    if loudspeaker:
        programme = loudspeaker_profile(programme, rate, cfg.loudspeaker_low_hz, cfg.loudspeaker_high_hz)
    # First guesses: the encoder keeps the loudness and adds MP3_MARGIN_DB of peak, or what it did to the
    # previous version of this programme.
    ceiling = cfg.true_peak_max_dbtp - MP3_MARGIN_DB
    aim = target
    if hint is not None:
        aim += hint.aim_offset_db
        ceiling = hint.ceiling_dbtp if hint.ceiling_dbtp is not None else ceiling
    mastered, _ = master(programme, rate, target_lufs=aim, ceiling_dbtp=ceiling)
    if progress:
        progress("mastering", 1, 1)

    base = basename or segment_key(bulletin, commune)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".render-{uuid.uuid4().hex[:12]}"
    final: dict[str, Path] = {}
    try:
        staging.mkdir()
        mp3_tmp = staging / f"{base}.mp3"
        # Encode, decode and measure what listeners get. The encoder's low-pass and overshoot move
        # loudness and peaks a little: correct the master by what was measured and encode again.
        # The true-peak ceiling is a hard limit; the loudness target has a tolerance.
        attempts = 0
        for attempt in range(MP3_ATTEMPTS):
            attempts += 1
            tp, lufs, duration = encode_and_measure(mp3_tmp, mastered, rate, bitrate, cfg.mp3_channels)
            off = target - lufs
            if tp <= cfg.true_peak_max_dbtp and abs(off) <= LOUDNESS_TOLERANCE_LU:
                if hint is not None:
                    hint.aim_offset_db, hint.ceiling_dbtp = aim - target, ceiling
                break
            if attempt == MP3_ATTEMPTS - 1:
                if tp > cfg.true_peak_max_dbtp:  # last resort: plain gain down, loudness a little low
                    mastered = mastered * db_to_gain(cfg.true_peak_max_dbtp - tp - 0.1)
                    tp, lufs, duration = encode_and_measure(
                        mp3_tmp, mastered, rate, bitrate, cfg.mp3_channels
                    )
                break
            # What the encoder did to this material (loudness lost, peaks added) is nearly constant:
            # master again with the target and the ceiling moved by those amounts.
            overshoot = tp - true_peak(mastered, rate)
            aim += off
            ceiling = min(ceiling, cfg.true_peak_max_dbtp - max(0.0, overshoot) - 0.1)
            logger.info(
                "MP3 measured %.2f LUFS, %.2f dBTP: mastering again for %.2f LUFS, ceiling %.2f dBTP",
                lufs,
                tp,
                aim,
                ceiling,
            )
            del mastered  # free the previous master before the next one is made
            mastered, _ = master(programme, rate, target_lufs=aim, ceiling_dbtp=ceiling)
        publish_at, expires_at = meta.publish_at(), meta.expires_at()
        communes_info = [c.name for c in targets] if targets is not None else "all"
        info = {
            "title": meta.title,
            "date": meta.date.isoformat(),
            "agency": agency,
            "author": meta.author,
            "province": cfg.province,
            "commune": commune.name if commune else None,
            "commune_code": commune.code if commune else None,
            "commune_label": written_label([commune] if commune else targets, cfg.province),
            "communes": communes_info,
            "commune_codes": [c.code for c in targets] if targets is not None else "all",
            "priority": meta.priority,
            "publish": publish_at.isoformat() if publish_at else None,
            "expires": expires_at.isoformat() if expires_at else None,
            "template": template.id,
            "template_name": template.name,
            "language": meta.language,
            "engine": engine_name,
            "voice": voice_id,
            "rate": None if reading is not None else speed or settings.voice.tts.rate,
            "reading": reading.sidecar() if reading is not None else None,
            "music_bed": bool(use_bed and assets.bed),
            "loudspeaker_profile": loudspeaker,
            "script": script.text,
            "sentences": len(sentences),
            "warnings": script.warnings,
            "duration_s": round(duration, 3),
            "loudness_target_lufs": target,
            "loudness_lufs": round(lufs, 2),
            "true_peak_max_dbtp": cfg.true_peak_max_dbtp,
            "true_peak_dbtp": round(tp, 2),
            "measured_on": "decoded MP3",
            "mp3_attempts": attempts,
            "mp3": {
                "file": f"{base}.mp3",
                "bitrate_kbps": bitrate,
                "sample_rate": rate,
                "channels": cfg.mp3_channels,
            },
            "wav": f"{base}.wav" if keep_wav else None,
            "render_seconds": None,
            "tts_seconds": round(tts_s, 2),
            "rendered_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": bulletin.path.name,
            "bulletin": bulletin_record(bulletin),  # a person's reading is mastered from it later
        }
        write_tags(mp3_tmp, info)
        info["mp3"]["bytes"] = mp3_tmp.stat().st_size
        info["mp3"]["sha256"] = sha256_file(mp3_tmp)
        if keep_wav:
            write_wav(staging / f"{base}.wav", AudioChunk(pcm16(mastered), rate))
        info["render_seconds"] = round(time.perf_counter() - started, 2)
        sidecar_tmp = staging / f"{base}.json"
        sidecar_tmp.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        # Everything is complete in the staging directory: move it into place (renames on one filesystem).
        for tmp in sorted(staging.iterdir(), key=lambda p: p.suffix == ".json"):  # sidecar last
            dest = out_dir / tmp.name
            tmp.replace(dest)
            final[tmp.suffix] = dest
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        for dest in final.values():  # a file moved before the failure: take it back
            dest.unlink(missing_ok=True)
        reason = "ổ đĩa đã đầy" if exc.errno == errno.ENOSPC else f"lỗi hệ thống {exc.errno}"
        raise RenderError(
            f"không ghi được chương trình vào {out_dir}: {reason}; chưa có gì được phát hành"
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    logger.info(
        "rendered %s: %.1f s, %.2f LUFS, %.2f dBTP in %.1f s",
        final[".mp3"].name,
        duration,
        lufs,
        tp,
        info["render_seconds"],
    )
    return RenderResult(mp3=final[".mp3"], sidecar=final[".json"], wav=final.get(".wav"), info=info)
