"""The turn-taking models all calls share: the speech detector and the end-of-turn judge, loaded once.

`ivr.media.detector: silero` loads Silero VAD (one session for the process, a detector with its own
state per call); `ivr.media.turn.model: smart_turn` loads Smart Turn v3.2 behind a bounded judge, and
`text` (no model file) judges the words so far with the intent catalog now serving (`ivr.turn_text`). A
model that cannot be loaded (not installed, a broken file) is logged once with the setting and the fix,
and calls go on with the energy detector or the fixed end-point: a missing model never fails a call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ivr.turn_text import TextTurnSettings, WordsJudge
from voice.silero import SileroModel, SileroSettings
from voice.turn import JudgeSettings, SmartTurnModel, TurnJudge
from voice.turn_files import SILERO, SMART_TURN, locate
from voice.vad import EnergyDetector, EnergySettings, SpeechDetector

if TYPE_CHECKING:
    from intents.matcher import Matcher
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)


class TurnTaking:
    """The loaded models (or None for each that is off or unavailable) and per-call detectors."""

    def __init__(
        self,
        silero: SileroModel | None,
        judge: TurnJudge | None,
        settings: IvrConfig,
        words: WordsJudge | None = None,
    ) -> None:
        self.silero = silero
        self.judge = judge
        self.words = words  # the end of turn by words (turn.model: text), shared by all calls
        media = settings.ivr.media
        self._silero_settings = SileroSettings(
            media.silero.start_probability, media.silero.continue_probability, media.silero.silent_below_db
        )
        self._energy_settings = EnergySettings(media.speech_threshold_db, media.noise_margin_db)

    @classmethod
    def load(cls, settings: IvrConfig, matcher: Callable[[], Matcher | None] | None = None) -> TurnTaking:
        """Blocking (model files are read): run it in a thread at start-up. `matcher`: the one serving now."""
        media = settings.ivr.media
        silero = judge = words = None
        if media.detector == "silero":
            silero = _load(
                lambda: SileroModel(locate(SILERO, media.models_dir, "ivr.media.models_dir")),
                "Silero VAD",
                "ivr.media.detector",
                "the energy detector",
            )
        if media.turn.model == "smart_turn":
            turn = media.turn
            model = _load(
                lambda: SmartTurnModel(locate(SMART_TURN, media.models_dir, "ivr.media.models_dir")),
                "Smart Turn",
                "ivr.media.turn.model",
                f"{media.endpoint_silence_ms} ms of silence",
            )
            if model is not None:
                judge = TurnJudge(
                    model, JudgeSettings(turn.timeout_ms, turn.workers, max_pending=4 * turn.workers)
                )
        turn = media.turn
        if turn.model == "text" and matcher is not None:
            words = WordsJudge(
                matcher,
                TextTurnSettings(
                    turn.early_intent_score, turn.early_intent_margin, turn.tail_words, turn.continue_words
                ),
            )
        return cls(silero, judge, settings, words)

    def detector(self) -> SpeechDetector:
        """A detector for one call: Silero with the call's own state, or the energy detector."""
        if self.silero is not None:
            return self.silero.detector(self._silero_settings)
        return EnergyDetector(self._energy_settings)

    def close(self) -> None:
        if self.judge is not None:
            self.judge.close()


def _load(build: Any, what: str, setting: str, instead: str) -> Any:
    try:
        return build()
    except Exception as exc:
        logger.error("%s unavailable (%s; %s): calls use %s", what, exc, setting, instead)
        return None
