"""Config section `broadcast:` (bulletins, rendering, mastering, publishing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voice.settings import VoiceConfig

# Loudness presets (LUFS integrated, ITU-R BS.1770): loudspeakers and online listening, or a broadcast chain.
LOUDNESS_PRESETS = {"online": -16.0, "broadcast": -23.0}


def _air_times(value: Any) -> Any:
    """ "06:00" strings; a bare 06:00 that a YAML reader took for minutes (360) is refused with the fix."""
    if isinstance(value, list | tuple):
        for v in value:
            if isinstance(v, int | float):
                raise ValueError(f'{v!r} is not a time: write air times in quotes, e.g. "06:00"')
        if len(set(value)) != len(value):
            raise ValueError("an air time is listed twice")
    return value


class CommuneSchedule(BaseModel):
    """One entry of `broadcast.schedule.communes:` a commune's own air times instead of the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commune: int = Field(ge=1)  # the commune's code (as for radio by phone: hotline broadcast communes)
    times: tuple[dt.time, ...] = Field(min_length=1, max_length=24)  # local times, "HH:MM"

    _times = field_validator("times", mode="before")(_air_times)


class ScheduleSettings(BaseModel):
    """`broadcast.schedule:` when communes air their programme (Circular 39/2020/TT-BTTTT: a normal
    bulletin at the commune's own times, a priority one first, an emergency at once)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    times: tuple[dt.time, ...] = Field(
        default=(dt.time(6, 0), dt.time(17, 0)), min_length=1, max_length=24
    )  # daily air times of every commune, local time (locale.time_zone)
    communes: tuple[CommuneSchedule, ...] = ()  # communes with times of their own
    emergency_hours: int = Field(default=48, ge=1, le=24 * 30)  # how long an emergency with no `expires` airs

    _times = field_validator("times", mode="before")(_air_times)

    def times_for(self, code: int) -> tuple[dt.time, ...]:
        """The commune's air times, earliest first."""
        own = next((c.times for c in self.communes if c.commune == code), self.times)
        return tuple(sorted(own))


class BroadcastSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    province: str = "Nghệ An"  # province whose communes/wards bulletins may target
    default_agency: str = "Sở Khoa học và Công nghệ tỉnh Nghệ An"  # agency when a bulletin names none
    default_template: str = "chuyen-doi-so"  # template id when a bulletin names none
    emergency_template: str = "khan-cap"  # template of an emergency bulletin that names none; "": default
    templates_dir: Path = Path("broadcast/templates")  # one YAML file per programme template
    jingles_dir: Path = Path("audio_assets/jingles")  # intro/outro jingles and music beds (WAV)
    storage_dir: Path | None = None  # rendered segments; empty: <data_dir>/broadcast
    max_body_chars: int = Field(default=20000, ge=100, le=200000)  # longest bulletin body, in characters
    # rendering
    workers: int = Field(default=2, ge=1, le=32)  # sentences synthesized in parallel
    sample_rate: int = Field(default=44100, ge=16000, le=48000)  # Hz of the mastered segment
    pause_sentence_ms: int = Field(default=350, ge=0, le=5000)  # silence between sentences
    pause_paragraph_ms: int = Field(default=750, ge=0, le=5000)  # silence between paragraphs and list items
    pause_heading_ms: int = Field(default=1000, ge=0, le=5000)  # silence after a heading
    bed_level_db: float = Field(default=-18.0, ge=-60.0, le=0.0)  # bed level vs speech, in pauses (dB)
    bed_duck_db: float = Field(default=12.0, ge=0.0, le=40.0)  # bed attenuation under speech (dB)
    # mastering
    loudness_target_lufs: float = Field(default=-16.0, ge=-40.0, le=-5.0)  # -16 online, -23 broadcast chain
    true_peak_max_dbtp: float = Field(default=-1.0, ge=-9.0, le=0.0)  # ceiling measured on the decoded MP3
    loudspeaker_profile: bool = False  # band-limit and compress for outdoor horn speakers
    loudspeaker_low_hz: float = Field(default=250.0, ge=20.0, le=2000.0)  # high-pass corner (Hz)
    loudspeaker_high_hz: float = Field(default=5000.0, ge=1000.0, le=16000.0)  # low-pass corner (Hz)
    # outputs
    mp3_bitrate_kbps: Literal[32, 48, 64, 80, 96, 112, 128, 160, 192] = 64  # mono MP3 bitrate
    mp3_channels: Literal[1, 2] = 1  # 1: mono (default; loudspeaker systems are mono)
    wav_master: bool = False  # also keep a 16-bit WAV master beside the MP3
    # publishing
    feed_items: int = Field(default=50, ge=1, le=1000)  # newest segments listed per RSS feed
    phone_number: str = Field(default="", max_length=40)  # hotline number shown for radio by phone
    new_days: int = Field(default=7, ge=1, le=90)  # days a commune with a new segment is marked "mới"
    # working days after publication communes have to confirm airing, when the bulletin sets no deadline
    airing_deadline_days: int = Field(default=2, ge=0, le=30)
    max_upload_bytes: int = Field(default=262144, ge=1024)  # largest API upload (bytes)
    # a bulletin read by a person (recorded in the browser or uploaded) instead of the synthesizer
    reading_max_minutes: int = Field(default=20, ge=1, le=60)  # longest reading accepted (minutes)
    reading_max_upload_mb: int = Field(default=120, ge=1, le=1000)  # largest reading file (MB)
    api_token: str = ""  # bearer token for upload/delete; empty: writes only with a console session
    bundle_cache_mb: int = Field(default=1024, ge=1)  # disk kept for offline bundles (MB); LRU beyond
    jobs_kept: int = Field(default=200, ge=10)  # finished render jobs remembered for status queries
    schedule: ScheduleSettings = ScheduleSettings()  # air times per commune, emergencies

    @model_validator(mode="after")
    def _band(self) -> BroadcastSettings:
        if self.loudspeaker_low_hz >= self.loudspeaker_high_hz:
            raise ValueError("loudspeaker_low_hz must be below loudspeaker_high_hz")
        return self

    @model_validator(mode="after")
    def _schedule_communes(self) -> BroadcastSettings:
        """Each commune of `schedule.communes` is a unit of the province, listed once."""
        if not self.schedule.communes:
            return self  # the dataset is read only when there is something to check
        from broadcast.communes import load_communes

        index = load_communes(self.province)
        seen: set[int] = set()
        for n, entry in enumerate(self.schedule.communes):
            where = f"broadcast.schedule.communes.{n}.commune"
            if entry.commune in seen:
                raise ValueError(f"{where}: {entry.commune} is listed twice")
            if index.by_code(entry.commune) is None:
                raise ValueError(
                    f"{where}: {entry.commune} is not a commune or ward of {self.province} "
                    "(codes: hotline broadcast communes)"
                )
            seen.add(entry.commune)
        return self


class BroadcastConfig(VoiceConfig, Protocol):
    """What the radio side reads from the product's settings."""

    @property
    def broadcast(self) -> BroadcastSettings: ...
