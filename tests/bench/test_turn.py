"""The end-of-turn benchmark measures what it says: its sets are built as specified, and its harness
counts a premature cut-off and a false barge-in when an end-pointer makes one."""

from __future__ import annotations

import numpy as np
import pytest

from bench import turn, turn_sets
from voice.audio import AudioChunk
from voice.vad import SpeechEnd, SpeechStart, chunk_ms, level_db


def _db(chunk: AudioChunk, start_ms: int, end_ms: int) -> float:
    x = chunk.array()[chunk.rate * start_ms // 1000 : chunk.rate * end_ms // 1000].astype(np.float64)
    return float(10 * np.log10(np.mean(np.square(x / 32768.0)) + 1e-12))


@pytest.fixture(scope="module")
def utterances() -> list[turn_sets.Paused]:
    return turn_sets.paused_utterances()


@pytest.fixture(scope="module")
def noises() -> list[turn_sets.Noise]:
    return turn_sets.noises(seconds=20)


def test_paused_utterances_have_their_pauses_levels_and_room_to_end(utterances):
    kinds = [u.kind for u in utterances]
    after = len(turn_sets.AFTER_REQUEST_MS) * turn_sets.VARIANTS  # a pause right after a whole request
    assert len(utterances) == 6 * 3 * turn_sets.VARIANTS + after
    assert {k: kinds.count(k) for k in set(kinds)} == {
        **{k: 6 * turn_sets.VARIANTS for k in ("two_phrases", "code_groups", "hesitation")},
        "after_request": after,
    }
    for u in utterances:
        assert u.audio.rate == 8000 and u.audio.width == 2
        assert len(u.pauses) == (3 if u.kind == "code_groups" else 1), u.name
        low, high = turn_sets.HESITATION_MS if u.kind == "hesitation" else turn_sets.PAUSE_MS
        for start, end in u.pauses:
            assert low - 1 <= end - start <= high + 1, u.name
            assert u.speech_start_ms < start < end < u.speech_end_ms, u.name
            # A pause is the line's hiss only: nothing of the syllables around it.
            assert _db(u.audio, start + 10, end - 10) < turn_sets.LINE_NOISE_DB + 3, u.name
        # Speech between the pauses at its level; line noise before it and after the caller finished.
        assert abs(_db(u.audio, u.speech_start_ms, u.pauses[0][0]) - u.level_db) < 6, u.name
        assert turn_sets.SPEECH_DB - 4.1 <= u.level_db <= turn_sets.SPEECH_DB + 4.1
        assert _db(u.audio, u.speech_end_ms + 20, u.speech_end_ms + turn_sets.TAIL_MS) < -55
        assert u.speech_start_ms == turn_sets.LEAD_MS
        assert u.audio.duration_s * 1000 == pytest.approx(u.speech_end_ms + turn_sets.TAIL_MS, abs=2)
    # Seeded: the same set on every run.
    again = turn_sets.paused_utterances()
    assert [u.audio.audio for u in again[:6]] == [u.audio.audio for u in utterances[:6]]


def test_noise_is_at_its_level_and_sounds_like_its_kind(noises):
    names = {n.name for n in noises}
    assert names == {"line/quiet"} | {
        f"{k}/{lv}" for k in turn_sets.NOISE_KINDS for lv in ("moderate", "loud")
    }
    for n in noises:
        assert n.audio.duration_s == pytest.approx(20, abs=0.01)
        if n.kind == "line":
            assert n.level_db < -58
            continue
        want = (turn_sets.ECHO_LEVELS_DB if n.kind == "echo" else turn_sets.NOISE_LEVELS_DB)[n.level]
        assert n.level_db == pytest.approx(want, abs=0.5), n.name
        assert (n.playback is not None) == (n.kind == "echo")

    def spectrum(name: str) -> tuple[np.ndarray, np.ndarray]:
        x = next(n for n in noises if n.name == name).audio.array().astype(np.float64)
        power = np.abs(np.fft.rfft(x)) ** 2
        return np.fft.rfftfreq(len(x), 1 / 8000), power

    freq, power = spectrum("wind/moderate")
    assert power[freq < 400].sum() > 0.5 * power.sum()  # wind rumbles low
    freq, power = spectrum("engine/moderate")
    band = power[(freq > 30) & (freq < 1000)]
    assert band.max() > 100 * np.median(band)  # a hum: harmonic peaks over the noise


class _LevelEndpointer:
    """A tiny fake: speech is any chunk over -45 dBFS; `silence_ms` of anything else ends the turn."""

    def __init__(self, silence_ms: int) -> None:
        self.silence_ms = silence_ms
        self.in_speech = False
        self.silent = 0

    def process(self, chunk: AudioChunk) -> SpeechStart | SpeechEnd | None:
        speech = level_db(chunk) > -45
        if not self.in_speech:
            if speech:
                self.in_speech, self.silent = True, 0
                return SpeechStart((chunk,), chunk.timestamp_ms)
            return None
        self.silent = 0 if speech else self.silent + chunk_ms(chunk)
        if self.silent >= self.silence_ms:
            self.in_speech = False
            return SpeechEnd("silence", chunk.timestamp_ms + chunk_ms(chunk))
        return None


def test_cutoff_harness_counts_an_end_in_a_pause_as_premature(utterances):
    some = utterances[::6]  # every recording and kind
    hasty = turn.cutoffs(lambda: _LevelEndpointer(150), some)
    assert hasty["premature_share"] == 1.0  # every pause is at least 300 ms: 150 ms ends the turn in it
    assert hasty["not_heard"] == 0 and hasty["not_ended"] == 0
    patient = turn.cutoffs(lambda: _LevelEndpointer(1000), some)
    assert patient["premature_share"] == 0.0  # no pause reaches 1 s
    assert 950 <= patient["end_wait_p50_ms"] <= 1100


def test_noise_harness_counts_starts_and_barge_in_delay(noises):
    quiet = [n for n in noises if n.name in ("line/quiet", "engine/loud")]
    result = turn.false_barge_ins(lambda: _LevelEndpointer(300), quiet)
    assert result["line/quiet"]["starts"] == 0
    assert result["engine/loud"]["starts"] > 0  # -28 dBFS is over the fake's threshold
    assert result["all"]["minutes"] == pytest.approx(40 / 60, abs=0.05)
    delay = turn.barge_in_delay(lambda: _LevelEndpointer(300), [noises[0]])
    assert delay["trials"] == 6 and delay["missed"] == 0
    assert 0 <= delay["p50_ms"] <= 100  # the fake starts on the first loud chunk


def test_fixed_timer_is_the_listener_of_the_configuration():
    fixed = turn.FixedTimer()
    assert fixed.segmenter.settings.silence_ms == 600
    assert turn.FixedTimer(300).segmenter.settings.silence_ms == 300


def test_complete_sentences_are_the_recordings_whole_and_a_prompt_plays_over_the_noise():
    complete = turn_sets.complete_utterances()
    assert len(complete) == 6 * turn_sets.VARIANTS and {u.kind for u in complete} == {"complete"}
    for u in complete:
        assert u.pauses == () and u.speech_start_ms == turn_sets.LEAD_MS
        assert _db(u.audio, u.speech_end_ms + 20, u.speech_end_ms + turn_sets.TAIL_MS) < -55
    prompt = turn_sets.prompt_playback(seconds=5)
    assert prompt.duration_s == 5 and abs(turn_sets.rms_db(prompt) - turn_sets.PROMPT_DB) < 1.5


def test_the_products_listener_with_the_old_settings_ends_turns_where_the_fixed_timer_does(utterances):
    """The bench's listener end-pointer runs the product's `CallListener`: with the energy detector and no
    judgement it must agree with the bare segmenter on when utterances start and end."""
    from bench.turn_listener import factory

    media = "HOTLINE_IVR__MEDIA__"
    make = factory(
        {f"{media}DETECTOR": "energy", f"{media}TURN__MODEL": "none", f"{media}ENDPOINT_SILENCE_MS": "600"}
    )
    for u in utterances[:: len(utterances) // 3]:
        mine = [(type(e).__name__, e.timestamp_ms) for _, e in turn._feed(make(), u.audio)]
        bare = [(type(e).__name__, e.timestamp_ms) for _, e in turn._feed(turn.FixedTimer(600), u.audio)]
        bare = [(k, t) for k, t in bare if k != "SpeechPause"]
        assert [k for k, _ in mine] == [k for k, _ in bare] and mine, u.name
        # Ends at the same chunk (starts are stamped at the onset chunk here, at the pre-roll there).
        assert [t for k, t in mine if k == "SpeechEnd"] == [t for k, t in bare if k == "SpeechEnd"], u.name
