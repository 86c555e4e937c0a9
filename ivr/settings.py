"""Config section `ivr:` (Asterisk, ARI, call flow, prompts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from asterisk.dial import check_dialable, dial_targets, expand_targets
from asterisk.settings import AsteriskConfig, AsteriskSettings
from intents.settings import IntentsConfig


class FlowSettings(BaseModel):
    """`ivr.flow:` how a call proceeds (timeouts, attempts, actions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recording_notice: bool = True  # say "the call is recorded" first
    no_input_seconds: float = Field(7.0, gt=0, le=60)  # silence after a prompt: a failed attempt
    max_attempts: int = Field(2, ge=1, le=5)  # failures before the keypad menu (one more: operator/bye)
    digit_timeout_seconds: float = Field(4.0, gt=0, le=30)  # pause that ends a keyed code
    menu_digit_timeout_seconds: float = Field(2.0, gt=0, le=30)  # pause before a sub-menu is read
    feedback_max_seconds: int = Field(120, ge=5, le=1800)  # longest complaint recording
    feedback_min_seconds: float = Field(0.8, ge=0, le=30)  # shorter recordings count as empty
    record_silence_seconds: float = Field(5.0, gt=0, le=60)  # this much silence ends a recording
    operator_endpoint: str = ""  # Dial syntax: PJSIP/operator, or PJSIP/operator&PJSIP/operator2 (ring all)
    transfer_timeout_seconds: int = Field(25, ge=1, le=300)  # ring time before "nobody answered"
    rating: bool = True  # ask for a 1-5 satisfaction rating at goodbye
    barge_in: bool = True  # caller speech interrupts prompts
    max_call_minutes: float = Field(30.0, gt=0, le=600)  # longer calls are ended politely

    @field_validator("operator_endpoint")
    @classmethod
    def _check_operator_endpoint(cls, value: str) -> str:
        # Outside numbers are written out with the dial-out trunk below; here they only hold their place.
        parts = value.split("&") if value.strip() else []
        dial_targets("&".join("PJSIP/number" if p.strip().lstrip("+").isdigit() else p for p in parts))
        return "&".join(p.strip() for p in parts)


class MediaSettings(BaseModel):
    """`ivr.media:` caller audio over externalMedia RTP, voice activity end-pointing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bind_host: str = "127.0.0.1"  # local address of our RTP sockets
    advertised_host: str = ""  # address Asterisk sends RTP to (externalMedia external_host); empty: bind_host
    port_start: int = Field(40000, ge=1024, le=65535)  # our RTP port range (one port per call)
    port_end: int = Field(40999, ge=1024, le=65535)
    # RTP payload both ways (8 kHz). auto: the caller's own G.711 law (no transcoding in the bridge)
    format: Literal["auto", "ulaw", "alaw", "slin"] = "auto"
    endpoint_silence_ms: int = Field(600, ge=100, le=5000)  # silence ending an utterance (dominates latency)
    min_speech_ms: int = Field(160, ge=20, le=2000)  # voiced audio needed to count as speech (not a click)
    speech_threshold_db: float = Field(-38.0, ge=-90, le=0)  # frame energy (dBFS) counted as voice
    noise_margin_db: float = Field(12.0, ge=0, le=60)  # or this much above the tracked noise floor
    max_utterance_seconds: float = Field(15.0, gt=1, le=120)  # an utterance is cut here
    preroll_ms: int = Field(300, ge=0, le=2000)  # audio kept before speech onset and fed to ASR
    playback_lead_ms: int = Field(60, ge=0, le=500)  # RTP sent this far ahead of real time (jitter cushion)

    @model_validator(mode="after")
    def _check_ports(self) -> MediaSettings:
        if self.port_end <= self.port_start:
            raise ValueError("port_end must be greater than port_start")
        return self


class AttemptSettings(BaseModel):
    """`ivr.attempts:` guesses by phone, counted in the database across calls (ivr.attempts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)  # failures older than this no longer count
    ticket_failures: int = Field(5, ge=1, le=100)  # ticket numbers not found or not the caller's, per number
    pin_failures: int = Field(5, ge=1, le=100)  # wrong prompt PINs per operator seat
    pin_failures_total: int = Field(10, ge=1, le=1000)  # wrong prompt PINs from all seats together


class IvrSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    app_name: str = "hotline"  # Stasis application name
    asterisk: AsteriskSettings = AsteriskSettings()
    flow: FlowSettings = FlowSettings()
    media: MediaSettings = MediaSettings()
    attempts: AttemptSettings = AttemptSettings()
    prompts_file: Path = Path("config/prompts.yaml")  # prompt key -> Vietnamese text (operators edit it)
    prompts_dir: Path = Path("audio_assets/prompts")  # human recordings <key>.wav win over TTS
    recordings_dir: Path = Path("recordings")  # complaint audio, relative to paths.data_dir
    reconnect_max_seconds: float = Field(3.0, gt=0, le=60)  # cap of the ARI reconnect backoff
    asr_timeout_seconds: float = Field(8.0, gt=0, le=120)  # no final transcript by then: keypad fallback
    max_recognitions: int = Field(8, ge=1, le=256)  # calls recognizing at once; more: pool saturated, keypad

    @model_validator(mode="after")
    def _check_operator_targets(self) -> IvrSettings:
        """Every target rings a phone of ours or an allowlisted number; a seat must exist in pjsip.conf."""
        cfg = self.asterisk
        spec = expand_targets(self.flow.operator_endpoint, cfg.dial_out_endpoint)
        trunks = tuple(t.endpoint for t in cfg.trunks)
        for target in dial_targets(spec):
            try:
                check_dialable(target, cfg.dial_out.allowlist, trunks)
            except ValueError as exc:
                raise ValueError(f"ivr.flow.operator_endpoint: {exc}") from None
            m = re.fullmatch(r"PJSIP/operator(\d*)", target)
            seats = cfg.operator_seats
            if cfg.mode != "external" and m and m.group(1) and not 2 <= int(m.group(1)) <= seats:
                raise ValueError(
                    f"ivr.flow.operator_endpoint rings {target}, but ivr.asterisk.operator_seats is {seats} "
                    f"(seats: PJSIP/operator{''.join(f', PJSIP/operator{n}' for n in range(2, seats + 1))})"
                )
        if spec != self.flow.operator_endpoint:
            object.__setattr__(self, "flow", self.flow.model_copy(update={"operator_endpoint": spec}))
        return self


class IvrConfig(AsteriskConfig, IntentsConfig, Protocol):
    """What the hotline's call handling reads from the product's settings."""

    @property
    def ivr(self) -> IvrSettings: ...
