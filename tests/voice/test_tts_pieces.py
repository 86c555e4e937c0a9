"""Pure logic of TTS text preparation, engine selection and the render cache (no engines)."""

from __future__ import annotations

import pytest

from tests.support import sine
from voice.audio import AudioChunk
from voice.tts.base import TtsError
from voice.tts.cache import RenderCache, cache_key
from voice.tts.pieces import MAX_PIECE_CHARS, prepare, split_pieces
from voice.tts.registry import select_engine


@pytest.mark.parametrize(
    "text", ["", "   \n\t ", "😀🎉👍🏽", "!!! ... ??? ,,,", "— … « » ()", "\u200d\ufe0f"]
)
def test_nothing_to_say_is_a_clear_error(text):
    with pytest.raises(TtsError, match="nothing to say"):
        prepare(text, max_chars=1000)


def test_emoji_removed_but_words_kept():
    out = prepare("Xin chào 😀 quý khách 👍🏽!", max_chars=1000)
    assert "Xin chào" in out and "quý khách" in out
    assert not any(ord(ch) > 0xFFFF for ch in out)


def test_text_is_nfc():
    decomposed = "Nghe\u0323\u0302 An"  # e + combining dot below + circumflex
    assert prepare(decomposed, max_chars=100) == "Nghệ An"


def test_too_long_text_is_refused_with_the_setting_named():
    with pytest.raises(TtsError, match="voice.tts.max_chars"):
        prepare("a" * 2001, max_chars=2000)


def test_mixed_scripts_are_kept():
    out = prepare("Xin chào Hello Привет 你好", max_chars=100)
    assert "Привет" in out and "你好" in out


def test_sentences_split_and_bounded():
    text = "Câu một. Câu hai! Câu ba? " + "từ " * 400 + "."
    pieces = split_pieces(prepare(text, max_chars=5000))
    assert pieces[:3] == ["Câu một.", "Câu hai!", "Câu ba?"]
    assert len(pieces) > 4
    assert all(0 < len(p) <= MAX_PIECE_CHARS for p in pieces)
    # nothing lost: every word of the long sentence is still there
    assert sum(p.count("từ") for p in pieces) == 400


def test_a_token_longer_than_the_limit_is_cut():
    pieces = split_pieces("x" * 1000, limit=300)
    assert [len(p) for p in pieces] == [300, 300, 300, 100]


def test_punctuation_only_fragment_is_dropped():
    assert split_pieces("Xin chào. ... !!") == ["Xin chào."]


def test_select_engine():
    assert select_engine(None, "espeak") == "espeak"
    assert select_engine("piper", "espeak") == "piper"
    assert select_engine("ESPEAK-NG", "piper") == "espeak"
    with pytest.raises(TtsError, match="unknown TTS engine 'festival'"):
        select_engine("festival", "espeak")


def test_cache_key_depends_on_every_field():
    base = cache_key("espeak", "vi/s150", "Xin chào", 1.0)
    assert base == cache_key("espeak", "vi/s150", "Xin chào", 1.0)
    others = {
        cache_key("piper", "vi/s150", "Xin chào", 1.0),
        cache_key("espeak", "vi/s175", "Xin chào", 1.0),
        cache_key("espeak", "vi/s150", "Xin chào.", 1.0),
        cache_key("espeak", "vi/s150", "Xin chào", 1.25),
    }
    assert base not in others and len(others) == 4


def test_render_cache_round_trip_and_damage(tmp_path):
    cache = RenderCache(tmp_path / "tts")
    key = cache_key("espeak", "v", "t", 1.0)
    assert cache.get(key, 16000) is None
    chunk = AudioChunk.from_array(sine(0.5, 16000, amp=0.3), 16000)
    cache.put(key, chunk)
    assert cache.get(key, 16000).audio == chunk.audio
    assert cache.get(key, 8000) is None  # wrong rate: treated as damaged and removed
    assert not cache.path_for(key).exists()

    cache.put(key, chunk)
    path = cache.path_for(key)
    path.write_bytes(path.read_bytes()[:-100])  # truncated by a crash or a full disk
    assert cache.get(key, 16000) is None and not path.exists()

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a wav at all" * 10)
    assert cache.get(key, 16000) is None and not path.exists()
