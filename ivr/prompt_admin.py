"""Re-recording prompts by phone: the PIN-protected extension (dialplan `Stasis(app, prompt-admin)`).

A pure state machine like `CallFlow`: the operator keys a prompt number (two digits, then #), hears the
current prompt, presses 1 to record a new one (# ends), hears it back, then 1 keeps it (it becomes
`audio_assets/prompts/<key>.wav`), 2 records again, 3 discards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.flow import (
    PROMPT_KEYS,
    CancelTimer,
    Command,
    Dtmf,
    Event,
    HangUp,
    Hangup,
    Play,
    PlaybackFinished,
    RecordingFinished,
    SetTimer,
    StartRecording,
    StopPlayback,
    StopRecording,
    TimerFired,
    spell_digits,
)

# Spoken to operators, not to citizens: kept here rather than in the citizen prompt file.
ASK = "Ghi âm lại lời nhắc. Bấm số thứ tự lời nhắc, gồm hai chữ số, rồi bấm phím thăng."
INVALID = "Số thứ tự không hợp lệ."
CHOICE = "Bấm một để ghi âm lại lời nhắc này, bấm hai để chọn lời nhắc khác."
RECORD = "Sau tiếng bíp, đọc lời nhắc mới, xong thì bấm phím thăng."
REVIEW = "Bấm một để giữ bản ghi này, bấm hai để ghi lại, bấm ba để hủy."
SAVED = "Đã lưu lời nhắc mới."
DISCARDED = "Đã hủy bản ghi."
FAILED = "Không lưu được bản ghi."
BYE = "Kết thúc. Xin chào."
MAX_RECORD_SECONDS = 30
IDLE_MS = 30_000  # no key for this long: hang up


@dataclass(frozen=True)
class SaveDraft:
    """Write the recording to a draft file and answer with DraftSaved."""

    recording: str


@dataclass(frozen=True)
class DraftSaved:
    recording: str
    path: str | None  # None: nothing usable was recorded


@dataclass(frozen=True)
class KeepPrompt:
    """Install the draft as the human recording of `key` (then PromptKept)."""

    key: str
    path: str


@dataclass(frozen=True)
class PromptKept:
    key: str
    ok: bool


def prompt_number(key: str) -> str:
    """'01' for the first prompt key, and so on."""
    return f"{PROMPT_KEYS.index(key) + 1:02d}"


@dataclass
class PromptAdminFlow:
    """Choose a prompt, record, review, keep."""

    state: str = "choose"  # choose | menu | pre_record | recording | saving | review | keeping | ended
    key: str | None = None
    digits: str = ""
    draft: str | None = None
    kept: list[str] = field(default_factory=list)
    outcome: str = "prompt_admin"  # for the call log
    degraded: bool = False

    def __post_init__(self) -> None:
        self._next = 0
        self._playing: set[int] = set()
        self._takes = 0
        self._out: list[Command] = []
        self._now = 0

    def handle(self, event: Event | DraftSaved | PromptKept, now_ms: int) -> list[Command]:
        self._now, self._out = now_ms, []
        if self.state == "ended":
            return []
        if isinstance(event, PlaybackFinished):
            self._playing.discard(event.playback_id)
            if self.state == "pre_record" and not self._playing:
                # The beep has ended: record from here.
                self.state = "recording"
                self._out.append(StartRecording(f"take{self._takes}", MAX_RECORD_SECONDS))
        elif isinstance(event, Dtmf):
            self._key(event.digit)
        elif isinstance(event, RecordingFinished):
            if self.state == "recording":
                self.state = "saving"
                self._out.append(SaveDraft(event.name) if event.ok else SaveDraft(""))
        elif isinstance(event, DraftSaved):
            if self.state == "saving":
                if event.path is None:
                    self._say([("text", FAILED), ("text", CHOICE)], "menu")
                else:
                    self.draft = event.path
                    self._say([("file", event.path), ("text", REVIEW)], "review")
        elif isinstance(event, PromptKept):
            if self.state == "keeping":
                if event.ok:
                    self.kept.append(event.key)
                self._say([("text", SAVED if event.ok else FAILED), ("text", ASK)], "choose")
        elif isinstance(event, TimerFired):
            if event.name == "idle":
                self._end()
        elif isinstance(event, Hangup):
            self.state = "ended"
        else:
            # CallStarted and anything else: (re)start at the question.
            if not self._out and self.key is None and not self._playing:
                self._say([("text", ASK)], "choose")
        self._arm_idle()
        return self._out

    def _arm_idle(self) -> None:
        if self.state != "ended":
            self._out.append(SetTimer("idle", self._now + IDLE_MS))

    def _say(self, items: list[tuple[str, str]], state: str) -> None:
        for pid in sorted(self._playing):
            self._out.append(StopPlayback(pid))
        self._playing.clear()
        for kind, value in items:
            self._next += 1
            self._playing.add(self._next)
            self._out.append(Play(self._next, **{kind: value}))
        self.state = state

    def _end(self) -> None:
        self._say([("text", BYE)], "ended")
        self._out += [CancelTimer("idle"), HangUp("prompt_admin")]

    def _key(self, d: str) -> None:
        if self.state == "choose":
            if d == "#":
                n = int(self.digits) if self.digits.isdigit() else 0
                self.digits = ""
                if 1 <= n <= len(PROMPT_KEYS):
                    self.key = PROMPT_KEYS[n - 1]
                    self._say([("text", f"Lời nhắc số {spell_digits(str(n))}."), ("key", self.key),
                               ("text", CHOICE)], "menu")
                else:
                    self._say([("text", INVALID), ("text", ASK)], "choose")
            elif d == "*":
                self._end()
            elif d.isdigit() and len(self.digits) < 3:
                self.digits += d
        elif self.state == "menu":
            if d == "1":
                self._record()
            elif d == "2":
                self.key = None
                self._say([("text", ASK)], "choose")
        elif self.state == "recording":
            if d == "#":
                self._out.append(StopRecording(f"take{self._takes}"))
        elif self.state == "review":
            if d == "1" and self.key and self.draft:
                self.state = "keeping"
                self._out.append(KeepPrompt(self.key, self.draft))
            elif d == "2":
                self._record()
            elif d == "3":
                self.draft = None
                self._say([("text", DISCARDED), ("text", ASK)], "choose")

    def _record(self) -> None:
        self._takes += 1
        self._say([("text", RECORD), ("key", "beep")], "pre_record")
