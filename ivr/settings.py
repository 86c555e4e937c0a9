"""Config section `ivr:` (Asterisk, ARI, call flow, prompts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ivr.flow import dial_targets


class AsteriskSettings(BaseModel):
    """`ivr.asterisk:` where Asterisk runs, how it is provisioned and which loopback ports it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["chroot", "host", "external"] = "chroot"  # chroot: Debian root we build; host: installed
    rootfs_dir: Path = Path("~/.cache/nghean-hotline/asterisk-root")  # chroot mode: outside the repo, reused
    suite: str = "sid"  # Debian suite for the root (Asterisk 22 is in unstable)
    mirror: str = ""  # Debian mirror URL; empty: the one the host's apt uses, else deb.debian.org
    packages: tuple[str, ...] = ("asterisk", "asterisk-core-sounds-en-gsm")  # debootstrap --include
    binary: Path = Path("/usr/sbin/asterisk")  # inside the root (chroot) or on the host (host mode)
    bind_address: str = "127.0.0.1"  # SIP, RTP and HTTP/ARI bind address
    sip_port: int = Field(5060, ge=1, le=65535)  # PJSIP UDP transport
    rtp_port_start: int = Field(10000, ge=1024, le=65535)  # RTP range (even start)
    rtp_port_end: int = Field(10999, ge=1024, le=65535)
    http_port: int = Field(8088, ge=1, le=65535)  # HTTP server carrying ARI
    ari_url: str = ""  # empty: http://<bind_address>:<http_port>; external mode: the remote ARI base URL
    ari_user: str = "hotline"
    ari_password: str = ""  # empty: generated once into <data_dir>/asterisk/secrets.json
    extension: str = "1080"  # the hotline number: sent to Stasis(app_name)
    prompt_extension: str = "1089"  # PIN-protected prompt re-recording: Stasis(app_name, prompt-admin)
    operator_seats: int = Field(1, ge=1, le=50)  # operator SIP endpoints: operator, operator2, operator3, ...
    operator_ring_seconds: int = Field(20, ge=1, le=300)  # fallback: how long the operators' phones ring
    message_max_seconds: int = Field(120, ge=5, le=3600)  # fallback: longest message a caller may leave
    start_timeout: float = Field(60.0, gt=0)  # seconds to wait for ARI to answer after start
    stop_timeout: float = Field(10.0, gt=0)  # seconds to wait for a clean stop before killing

    @model_validator(mode="after")
    def _check_ranges(self) -> AsteriskSettings:
        if self.rtp_port_end <= self.rtp_port_start:
            raise ValueError("rtp_port_end must be greater than rtp_port_start")
        return self


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
        return "&".join(dial_targets(value))


class MediaSettings(BaseModel):
    """`ivr.media:` caller audio over externalMedia RTP, voice activity end-pointing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bind_host: str = "127.0.0.1"  # local address of our RTP sockets
    advertised_host: str = ""  # address Asterisk sends RTP to (externalMedia external_host); empty: bind_host
    port_start: int = Field(40000, ge=1024, le=65535)  # our RTP port range (one port per call)
    port_end: int = Field(40999, ge=1024, le=65535)
    format: Literal["ulaw", "slin"] = "ulaw"  # RTP payload both ways (8 kHz); slin16 replies are dropped
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


class IvrSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    app_name: str = "hotline"  # Stasis application name
    asterisk: AsteriskSettings = AsteriskSettings()
    flow: FlowSettings = FlowSettings()
    media: MediaSettings = MediaSettings()
    prompts_file: Path = Path("config/prompts.yaml")  # prompt key -> Vietnamese text (operators edit it)
    prompts_dir: Path = Path("audio_assets/prompts")  # human recordings <key>.wav win over TTS
    recordings_dir: Path = Path("recordings")  # complaint audio, relative to paths.data_dir
    reconnect_max_seconds: float = Field(3.0, gt=0, le=60)  # cap of the ARI reconnect backoff
    asr_timeout_seconds: float = Field(8.0, gt=0, le=120)  # no final transcript by then: keypad fallback
    max_recognitions: int = Field(8, ge=1, le=256)  # calls recognizing at once; more: pool saturated, keypad

    @model_validator(mode="after")
    def _check_operator_seats(self) -> IvrSettings:
        """A transfer to a seat our pjsip.conf does not have would always end in a message."""
        if self.asterisk.mode == "external":
            return self  # the remote Asterisk defines its own endpoints
        seats = self.asterisk.operator_seats
        for target in dial_targets(self.flow.operator_endpoint):
            m = re.fullmatch(r"PJSIP/operator(\d*)", target)
            if m and m.group(1) and not 2 <= int(m.group(1)) <= seats:
                raise ValueError(
                    f"ivr.flow.operator_endpoint rings {target}, but ivr.asterisk.operator_seats is {seats} "
                    f"(seats: PJSIP/operator{''.join(f', PJSIP/operator{n}' for n in range(2, seats + 1))})"
                )
        return self
