"""Config section `ivr:` (Asterisk, ARI, call flow, prompts)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from asterisk.dial import check_dialable, dial_targets, expand_targets
from asterisk.settings import AsteriskConfig, AsteriskSettings
from asterisk.workers import WorkersSettings
from intents.settings import IntentsConfig
from ivr.duty import Hours, Shift, overlap

DayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]


def dial_spec(key: str, spec: str, cfg: AsteriskSettings) -> str:
    """`spec` with bare numbers written as calls through the dial-out trunk, once every target is known
    to ring a phone of ours, a seat that exists or an allowlisted number. ValueError names `key` (the
    loader points at its line)."""
    try:
        expanded = expand_targets(spec, cfg.dial_out_endpoint)
        targets = dial_targets(expanded)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
    trunks = tuple(t.endpoint for t in cfg.trunks)
    for target in targets:
        try:
            check_dialable(target, cfg.dial_out.allowlist, trunks)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
        m = re.fullmatch(r"PJSIP/operator(\d*)", target)
        seats = cfg.operator_seats
        if cfg.mode != "external" and m and m.group(1) and not 2 <= int(m.group(1)) <= seats:
            raise ValueError(
                f"{key}: rings {target}, but ivr.asterisk.operator_seats is {seats} "
                f"(seats: PJSIP/operator{''.join(f', PJSIP/operator{n}' for n in range(2, seats + 1))})"
            )
    return expanded


def _targets(key: str, ring: tuple[str, ...], cfg: AsteriskSettings) -> tuple[str, ...]:
    """A `ring:` list checked and written out as dialable targets (numbers through the dial-out trunk)."""
    return dial_targets(dial_spec(key, "&".join(ring), cfg))


def _quoted_numbers(value: Any) -> Any:
    """YAML reads an unquoted 0987654321 as the number 987654321: ask for quotes rather than guess."""
    for item in value if isinstance(value, list | tuple) else ():
        if isinstance(item, int) and not isinstance(item, bool):
            raise ValueError(
                f'{item}: write phone numbers in quotes, e.g. "0{item}" (unquoted, YAML reads them as a '
                "number and drops the leading 0)"
            )
    return value


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
    rating: bool = True  # ask a 1-5 satisfaction rating once a call, after the first service delivered
    barge_in: bool = True  # caller speech interrupts prompts
    max_call_minutes: float = Field(30.0, gt=0, le=600)  # longer calls are ended politely

    @field_validator("operator_endpoint")
    @classmethod
    def _check_operator_endpoint(cls, value: str) -> str:
        # Outside numbers are written out with the dial-out trunk below; here they only hold their place.
        parts = value.split("&") if value.strip() else []
        dial_targets("&".join("PJSIP/number" if p.strip().lstrip("+").isdigit() else p for p in parts))
        return "&".join(p.strip() for p in parts)


class SileroSection(BaseModel):
    """`ivr.media.silero:` the neural speech detector's probability thresholds (hysteresis)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_probability: float = Field(0.5, gt=0, lt=1)  # a 32 ms window this likely speech starts speech
    continue_probability: float = Field(0.35, gt=0, lt=1)  # inside speech, windows above this still count
    silent_below_db: float = Field(-55.0, ge=-120, le=-30)  # outside speech: quieter not run (-120: off)

    @model_validator(mode="after")
    def _check_hysteresis(self) -> SileroSection:
        if self.continue_probability > self.start_probability:
            raise ValueError("continue_probability must not be above start_probability")
        return self


class TurnSection(BaseModel):
    """`ivr.media.turn:` end of turn by model or by the words so far, bounded by timers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # text: the transcript at the pause (ivr.turn_text); smart_turn: Smart Turn v3.2 on the audio (judges most
    # pauses inside Vietnamese sentences "complete", README); none: endpoint_silence_ms ends every utterance
    model: Literal["text", "smart_turn", "none"] = "text"
    min_silence_ms: int = Field(200, ge=60, le=2000)  # a pause this long is judged
    max_silence_ms: int = Field(1200, ge=100, le=5000)  # judged incomplete: this much silence ends it anyway
    unsure_silence_ms: int = Field(1000, ge=100, le=5000)  # text: the words do not tell: this much ends it
    code_max_silence_ms: int = Field(2000, ge=100, le=10000)  # the ceiling while a code is being said
    complete_probability: float = Field(0.5, gt=0, lt=1)  # smart_turn: this probability of "finished" ends it
    timeout_ms: int = Field(400, ge=20, le=5000)  # no verdict by then: endpoint_silence_ms ends it
    workers: int = Field(1, ge=1, le=8)  # smart_turn: threads running the model for all calls
    text_pad_ms: int = Field(300, ge=0, le=1000)  # text: silence fed after the pause: the last word comes
    # text: a clear intent match of the words so far ends the turn when it scores at least this ...
    early_intent_score: float = Field(0.9, gt=0, le=1)
    early_intent_margin: float = Field(0.3, ge=0, le=1)  # ... and leads the runner-up by at least this
    # text: the words so far end with the last this many words of a catalog example: finished (0: off)
    tail_words: int = Field(2, ge=0, le=6)
    # text: ... but when examples go on after the last this many words, the timer decides (0: off)
    continue_words: int = Field(2, ge=0, le=6)
    # text: the transcript at the pause is kept as the final one if the caller does not speak again, so the
    # answer needs no further recognition when the turn ends; silence after the pause is not recognized
    speculative: bool = True

    @model_validator(mode="after")
    def _check_order(self) -> TurnSection:
        if self.max_silence_ms <= self.min_silence_ms:
            raise ValueError("max_silence_ms must be greater than min_silence_ms")
        if not self.min_silence_ms < self.unsure_silence_ms <= self.max_silence_ms:
            raise ValueError("unsure_silence_ms must be above min_silence_ms and at most max_silence_ms")
        return self


class BargeInSection(BaseModel):
    """`ivr.media.barge_in:` when the caller's voice interrupts a prompt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_speech_ms: int = Field(200, ge=20, le=2000)  # speech needed to interrupt a prompt
    echo_margin_db: float = Field(15.0, ge=0, le=60)  # louder than our prompt's level less this: the caller
    echo_window_ms: int = Field(500, ge=20, le=3000)  # our audio may come back (echo) this long after
    # and louder than the line's median level (other voices, noise) over the last 1.5 s plus this (0: off)
    background_margin_db: float = Field(6.0, ge=0, le=40)
    # our prompt's echo taken out of the caller's audio while it plays (WebRTC's echo canceller), once the
    # line is seen to return it
    echo_cancel: bool = True


class MediaSettings(BaseModel):
    """`ivr.media:` caller audio over externalMedia RTP, voice activity end-pointing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bind_host: str = "127.0.0.1"  # local address of our RTP sockets
    advertised_host: str = ""  # address Asterisk sends RTP to (externalMedia external_host); empty: bind_host
    port_start: int = Field(40000, ge=1024, le=65535)  # our RTP port range (one port per call)
    port_end: int = Field(40999, ge=1024, le=65535)
    # RTP payload both ways (8 kHz). auto: the caller's own G.711 law (no transcoding in the bridge)
    format: Literal["auto", "ulaw", "alaw", "slin"] = "auto"
    # silence ending an utterance without an end-of-turn model, or when it gives no verdict in time
    endpoint_silence_ms: int = Field(600, ge=100, le=5000)
    min_speech_ms: int = Field(160, ge=20, le=2000)  # voiced audio needed to count as speech (not a click)
    detector: Literal["silero", "energy"] = "silero"  # speech or not: the neural detector, or frame energy
    # where `make setup` puts the turn-taking models (Silero VAD, Smart Turn); never downloaded at run time
    models_dir: Path = Path("~/.cache/nghean-hotline/models")
    silero: SileroSection = SileroSection()
    turn: TurnSection = TurnSection()
    barge_in: BargeInSection = BargeInSection()
    speech_threshold_db: float = Field(-38.0, ge=-90, le=0)  # frame energy (dBFS) counted as voice
    noise_margin_db: float = Field(12.0, ge=0, le=60)  # or this much above the tracked noise floor
    max_utterance_seconds: float = Field(15.0, gt=1, le=120)  # an utterance is cut here
    preroll_ms: int = Field(300, ge=0, le=2000)  # audio kept before speech onset and fed to ASR
    # silence inside an utterance fed to ASR after the last speech; the rest is held back and fed only if
    # the caller speaks again (the silence that ends an utterance is not recognized). 0: all of it
    asr_silence_ms: int = Field(500, ge=0, le=5000)
    # RTP sent this far ahead of real time. 0: each frame at its time. A lead is sent as a burst when a prompt
    # starts, which the far end's jitter buffer then drains: the delay of the line's echo moves for a second
    # or two after every prompt start, faster than an echo canceller follows.
    playback_lead_ms: int = Field(0, ge=0, le=500)
    # A prompt's audio (e.g. an answer being synthesized) not ready this long after its turn came: it is
    # skipped as failed and the flow says something else (a hung TTS engine never means dead air).
    audio_ready_seconds: float = Field(2.5, gt=0, le=60)

    @model_validator(mode="after")
    def _check_ports(self) -> MediaSettings:
        if self.port_end <= self.port_start:
            raise ValueError("port_end must be greater than port_start")
        return self


class DutyShiftSettings(BaseModel):
    """One entry of `ivr.duty.rota:`: on these days, at these hours, these phones ring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: tuple[DayName, ...]  # the shift starts on these days; holiday: public holidays
    hours: str  # "07:30-17:00"; "22:00-07:00" runs into the next morning; "00:00-24:00" all day
    ring: tuple[str, ...] = Field(min_length=1)  # seats (PJSIP/operator2), allowlisted numbers; all ring

    @field_validator("days")
    @classmethod
    def _check_days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("list at least one day: mon, tue, wed, thu, fri, sat, sun or holiday")
        twice = sorted({d for d in value if value.count(d) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed twice")
        return value

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: str) -> str:
        return str(Hours.parse(value))

    @field_validator("ring", mode="before")
    @classmethod
    def _check_ring(cls, value: Any) -> Any:
        return _quoted_numbers(value)

    def shift(self) -> Shift:
        """The rota's shift (once the settings are loaded, `ring` holds dialable targets)."""
        return Shift(frozenset(self.days), Hours.parse(self.hours), "&".join(self.ring))


class DutySettings(BaseModel):
    """`ivr.duty:` the duty rota: who rings at which hours and days; outside it, `flow.operator_endpoint`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = ""  # the rota's hours are local time here; empty: locale.time_zone (see `duty_zone`)
    rota: tuple[DutyShiftSettings, ...] = ()  # empty: operator_endpoint rings at all hours
    extra_holidays: tuple[dt.date, ...] = ()  # days off besides the national holidays (province decisions)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        if not value:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. Asia/Ho_Chi_Minh)") from None
        return value

    @model_validator(mode="after")
    def _check_overlaps(self) -> DutySettings:
        # Refused rather than "first entry wins": a rota where two shifts meet would hide one of them.
        shifts = [entry.shift() for entry in self.rota]
        for j, later in enumerate(shifts):
            for i, earlier in enumerate(shifts[:j]):
                when = overlap(earlier, later)
                if when:
                    raise ValueError(
                        f"ivr.duty.rota.{j}: overlaps rota[{i}] {when}; make one shift end when the "
                        "other starts"
                    )
        return self


class CommuneTeamSettings(BaseModel):
    """One entry of `ivr.commune_teams:`: a commune's community digital technology team."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commune: int = Field(ge=1)  # the commune's code, as for radio by phone (hotline broadcast communes)
    ring: tuple[str, ...] = Field(min_length=1)  # the team's phones: allowlisted numbers (or seats)

    @field_validator("ring", mode="before")
    @classmethod
    def _check_ring(cls, value: Any) -> Any:
        return _quoted_numbers(value)


class AttemptSettings(BaseModel):
    """`ivr.attempts:` guesses by phone, counted in the database across calls (ivr.attempts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)  # failures older than this no longer count
    ticket_failures: int = Field(5, ge=1, le=100)  # ticket numbers not found or not the caller's, per number
    pin_failures: int = Field(5, ge=1, le=100)  # wrong prompt PINs per operator seat
    pin_failures_total: int = Field(10, ge=1, le=1000)  # wrong prompt PINs from all seats together


class WordBankSettings(BaseModel):
    """`ivr.word_bank:` dynamic sentences spoken from recorded words (ivr.word_bank, voice.compose)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: Path = Path("config/word_bank.yaml")  # recordable units with Vietnamese usage notes
    # auto: on as soon as one unit (or a prompt) is recorded; on: always composed; off: synthesis only.
    use: Literal["auto", "on", "off"] = "auto"
    word_pause_ms: int = Field(60, ge=0, le=1000)  # between words of a number or phrase
    clause_pause_ms: int = Field(250, ge=0, le=2000)  # at a comma, colon or semicolon
    sentence_pause_ms: int = Field(450, ge=0, le=3000)  # at a full stop
    target_lufs: float = Field(-20.0, ge=-40.0, le=-10.0)  # every piece levelled to this loudness
    # Below this share of recorded words the whole sentence is synthesized (one voice rather than
    # one human word inside a synthetic sentence).
    min_share: float = Field(0.5, ge=0.0, le=1.0)


class ReviewSettings(BaseModel):
    """`ivr.review:` what enters the operators' review queue (ivr.review_queue)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Understood, but the best intent led the runner-up by less than this: an operator should look.
    low_margin: float = Field(0.10, ge=0.0, le=1.0)
    audio_dir: Path = Path("review-audio")  # what the recognizer heard, under paths.data_dir


class StudioSettings(BaseModel):
    """`ivr.studio:` how the console's recording studio processes a take before callers hear it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_lufs: float = Field(-20.0, ge=-31.0, le=-12.0)  # every take normalized to this (BS.1770)
    peak_ceiling_dbfs: float = Field(-1.0, ge=-12.0, le=0.0)  # normalization stops before peaks pass it
    keep_silence_ms: int = Field(100, ge=0, le=1000)  # kept before and after the speech when trimming
    quiet_dbfs: float = Field(-38.0, ge=-70.0, le=-10.0)  # loud frames of a take under this: "too quiet"
    noisy_snr_db: float = Field(25.0, ge=6.0, le=60.0)  # speech less than this above the noise: "noisy"


_TICKET_ID = r"^[a-z][a-z0-9_]{0,31}$"
MAX_SLA_DAYS = 365  # working days; also bounds the day-by-day walk of ivr.ticket_rules


class TicketCategorySettings(BaseModel):
    """One entry of `ivr.tickets.categories:` a kind of ticket, with its deadline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_TICKET_ID)  # stored on tickets: never rename one in use
    title: str = Field(min_length=1, max_length=80)  # what operators and the monthly report show
    sla_days: int | None = Field(None, ge=1, le=MAX_SLA_DAYS)  # working days; None: tickets.sla_days
    topics: tuple[str, ...] = ()  # intent ids: a complaint made while on that topic gets this category
    agency: str = ""  # id of the agency new tickets of this category go to ("": chosen by an operator)


class TicketAgencySettings(BaseModel):
    """One entry of `ivr.tickets.agencies:` an agency tickets are handed to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_TICKET_ID)  # stored on tickets: never rename one in use
    title: str = Field(min_length=1, max_length=120)


class TicketSettings(BaseModel):
    """`ivr.tickets:` categories, responsible agencies and deadlines (working days) of tickets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sla_days: int = Field(5, ge=1, le=MAX_SLA_DAYS)  # working days, for categories without their own
    default_category: str = "khac"  # a complaint made on no known topic
    callback_category: str = "goi_lai"  # a message or call-back for someone who asked for a person
    categories: tuple[TicketCategorySettings, ...] = (
        TicketCategorySettings(id="khac", title="Khác"),
        TicketCategorySettings(id="goi_lai", title="Yêu cầu gọi lại", sla_days=1),
    )
    agencies: tuple[TicketAgencySettings, ...] = ()
    extra_days_off: tuple[dt.date, ...] = ()  # days off besides weekends and national holidays
    extra_working_days: tuple[dt.date, ...] = ()  # weekend days worked in exchange for a day off

    @model_validator(mode="after")
    def _check_ids(self) -> TicketSettings:
        cats = [c.id for c in self.categories]
        agencies = {a.id for a in self.agencies}
        for n, c in enumerate(self.categories):
            if c.id in cats[:n]:
                raise ValueError(f"ivr.tickets.categories.{n}.id: {c.id} is listed twice")
            if c.agency and c.agency not in agencies:
                raise ValueError(
                    f"ivr.tickets.categories.{n}.agency: {c.agency} is not the id of an entry of "
                    "ivr.tickets.agencies"
                )
            for topic in c.topics:
                other = next((o.id for o in self.categories[:n] if topic in o.topics), None)
                if other:
                    raise ValueError(
                        f"ivr.tickets.categories.{n}.topics: {topic} is already in category {other}"
                    )
        for n, a in enumerate(self.agencies):
            if a.id in [b.id for b in self.agencies[:n]]:
                raise ValueError(f"ivr.tickets.agencies.{n}.id: {a.id} is listed twice")
        for key in ("default_category", "callback_category"):
            if getattr(self, key) not in cats:
                raise ValueError(
                    f"ivr.tickets.{key}: {getattr(self, key)} is not the id of an entry of "
                    "ivr.tickets.categories"
                )
        return self


class IvrSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    app_name: str = "hotline"  # Stasis application name
    asterisk: AsteriskSettings = AsteriskSettings()
    flow: FlowSettings = FlowSettings()
    media: MediaSettings = MediaSettings()
    attempts: AttemptSettings = AttemptSettings()
    review: ReviewSettings = ReviewSettings()
    prompts_file: Path = Path("config/prompts.yaml")  # prompt key -> Vietnamese text (operators edit it)
    prompts_dir: Path = Path("audio_assets/prompts")  # human recordings <key>.wav win over TTS
    studio: StudioSettings = StudioSettings()  # the console's recording studio
    word_bank: WordBankSettings = WordBankSettings()  # dynamic sentences from recorded words
    recordings_dir: Path = Path("recordings")  # complaint audio, relative to paths.data_dir
    reconnect_max_seconds: float = Field(3.0, gt=0, le=60)  # cap of the ARI reconnect backoff
    asr_timeout_seconds: float = Field(8.0, gt=0, le=120)  # no final transcript by then: keypad fallback
    max_recognitions: int = Field(8, ge=1, le=256)  # calls recognizing at once; more: pool saturated, keypad
    # the recognizer serves first the calls waiting for their answer (words at a pause, final transcripts),
    # and audio that waited for it goes in one job
    asr_answer_first: bool = True
    duty: DutySettings = DutySettings()  # who rings at which hours (else flow.operator_endpoint)
    commune_teams: tuple[CommuneTeamSettings, ...] = ()  # tổ công nghệ số cộng đồng: commune -> phones
    tickets: TicketSettings = TicketSettings()  # categories, agencies, deadlines in working days
    workers: WorkersSettings = WorkersSettings()  # ARI inbound (one process) or outbound (call workers)

    @model_validator(mode="after")
    def _check_operator_targets(self) -> IvrSettings:
        """Every target rings a phone of ours or an allowlisted number; a seat must exist in pjsip.conf.

        Bare numbers are written out through the dial-out trunk here, so what calls read is dialable as is.
        """
        cfg = self.asterisk
        spec = dial_spec("ivr.flow.operator_endpoint", self.flow.operator_endpoint, cfg)
        if spec != self.flow.operator_endpoint:
            object.__setattr__(self, "flow", self.flow.model_copy(update={"operator_endpoint": spec}))
        rota = tuple(
            entry.model_copy(update={"ring": _targets(f"ivr.duty.rota.{n}.ring", entry.ring, cfg)})
            for n, entry in enumerate(self.duty.rota)
        )
        if rota != self.duty.rota:
            object.__setattr__(self, "duty", self.duty.model_copy(update={"rota": rota}))
        teams: list[CommuneTeamSettings] = []
        for n, team in enumerate(self.commune_teams):
            if any(t.commune == team.commune for t in teams):
                raise ValueError(f"ivr.commune_teams.{n}.commune: {team.commune} is listed twice")
            ring = _targets(f"ivr.commune_teams.{n}.ring", team.ring, cfg)
            teams.append(team.model_copy(update={"ring": ring}))
        if tuple(teams) != self.commune_teams:
            object.__setattr__(self, "commune_teams", tuple(teams))
        return self


class IvrConfig(AsteriskConfig, IntentsConfig, Protocol):
    """What the hotline's call handling reads from the product's settings."""

    @property
    def ivr(self) -> IvrSettings: ...


def duty_zone(settings: IvrConfig) -> str:
    """The zone of the duty rota's hours: `ivr.duty.timezone`, or when it is empty `locale.time_zone`."""
    return settings.ivr.duty.timezone or settings.locale.time_zone
