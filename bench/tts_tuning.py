"""Choosing espeak-ng's Vietnamese voice by measurement: a budgeted search over variant, rate, pitch and
word gap, scored by the character error rate (CER) of our own recognizer (vietasr) on what it says.

A fixed set of sentences (the hotline's prompts and a sample of answers) is spoken by each candidate and
recognized directly at 16 kHz; the finalists also after the 8 kHz telephone path (resampled, G.711
A-law round trip, as a carrier delivers it). The search is coordinate descent on a short subset (the
variants at one rate, then the rate for the best few, then pitch and word gap), then the finalists on
the whole set. `python -m bench.tts_tuning` prints the result; `make bench BENCH=tts_tuning` stores it.
The chosen settings go into config/hotline.yaml by hand, with the figure.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The prompts callers hear most and a sample of intent answers (fixed here so that figures from
# different days compare; the files they come from are edited by operators).
SENTENCES = [
    "Cuộc gọi được ghi âm để nâng cao chất lượng phục vụ.",
    "Xin chào, đây là tổng đài hỗ trợ dịch vụ công tỉnh Nghệ An.",
    "Anh chị hãy nói ngắn gọn điều cần hỏi, hoặc bấm phím.",
    "Bấm phím sao để nghe lại, bấm phím không để gặp cán bộ.",
    "Xin lỗi, tôi chưa hiểu ý anh chị.",
    "Tôi chưa nghe thấy anh chị nói gì.",
    "Mời anh chị chọn bằng bàn phím.",
    "Phím vừa bấm không có trong danh sách.",
    "Anh chị còn cần hỏi gì nữa không? Hãy nói, hoặc bấm phím.",
    "Xin anh chị chờ máy, tôi đang chuyển cuộc gọi tới cán bộ trực.",
    "Mời anh chị nói nội dung phản ánh sau tiếng bíp.",
    "Phản ánh của anh chị đã được ghi nhận.",
    "Mời anh chị đọc hoặc bấm mã hồ sơ, bấm xong thì bấm phím thăng.",
    "Hiện chưa có bản tin cho xã này.",
    "Cảm ơn anh chị đã gọi. Xin chào và hẹn gặp lại.",
    "Xin anh chị chờ trong giây lát.",
    "Tôi chưa tìm thấy xã, phường này.",
    "Tổng đài đã ghi lại số máy của anh chị, cán bộ sẽ gọi lại sớm nhất có thể.",
    "Trong sáu mươi ngày kể từ khi cháu bé sinh ra, cha hoặc mẹ đi đăng ký khai sinh.",
    "Đăng ký kết hôn, hai người cùng đến bộ phận một cửa ủy ban nhân dân xã.",
    "Mang giấy chứng sinh của bệnh viện và thẻ căn cước của cha mẹ.",
    "Anh chị làm tại công an xã, phường nơi anh chị ở.",
    "Hồ sơ gồm giấy đề nghị đăng ký hộ kinh doanh và bản sao giấy tờ tùy thân.",
    "Tổng đài ghi nhận phản ánh về đường sá, điện, nước và môi trường.",
    "Nói xong, anh chị nhấn phím thăng.",
    "Anh chị vui lòng chờ trong giây lát, tôi đang chuyển cuộc gọi tới cán bộ tổng đài.",
    "Người cao tuổi được nhận trợ cấp xã hội hằng tháng tại xã.",
    "Lịch tiêm phòng cho trẻ em được thông báo trên loa truyền thanh của xã.",
    "Hồ sơ của anh chị đang được cán bộ xử lý.",
    "Anh chị vui lòng chấm điểm mức hài lòng, từ một đến năm.",
]
# Sentences with the words the pronunciation lexicon (config/lexicon.yaml) respells.
LEXICON_SENTENCES = [
    "Anh chị cài ứng dụng Zalo trên điện thoại.",
    "Mở gian hàng trên sàn Voso hoặc Postmart.",
    "Nộp thuế qua ứng dụng eTax Mobile.",
    "Nộp hồ sơ online trên cổng dịch vụ công.",
    "Xem video hướng dẫn trên YouTube hoặc Facebook.",
    "Thanh toán bằng ViettelPay hoặc MoMo.",
    "Truy cập internet bằng smartphone.",
    "Gửi e-mail cho cán bộ xã.",
]
COARSE = SENTENCES[::3]  # ten sentences for the coarse stages (about 35 s of speech per candidate)

# espeak-ng's standard variants (+f1..f5, +m1..m8) and a few others shipped with it.
VARIANTS = [
    "",
    *(f"f{i}" for i in range(1, 6)),
    *(f"m{i}" for i in range(1, 9)),
    "klatt",
    "klatt3",
    "Nguyen",
    "announcer",
    "steph",
    "belinda",
    "anika",
]
LANGUAGES = ["vi", "vi-vn-x-central", "vi-vn-x-south"]
RATES = [110, 120, 140, 150, 170]
PITCHES = [35, 65, 80]
GAPS = [2, 4, 8]
DEFAULT = ("vi", 150, 50, 0)  # espeak-ng's Vietnamese voice as installed, our former setting
TOP_VARIANTS = 4  # how many variants get a rate search
FINALISTS = 3  # how many candidates are scored on the whole set, 16 kHz and telephone


@dataclass(frozen=True)
class Candidate:
    voice: str  # espeak-ng voice with variant, e.g. "vi+f3"
    speed: int  # words per minute
    pitch: int  # 0..99
    gap: int  # word gap, units of 10 ms

    @property
    def label(self) -> str:
        return f"{self.voice} s{self.speed} p{self.pitch} g{self.gap}"


def _for_scoring(text: str) -> str:
    from voice.text import normalize_for_matching

    return " ".join(normalize_for_matching(text).split())


class Scorer:
    """Renders a candidate's sentences and scores what vietasr hears (blocking, single thread)."""

    def __init__(self, settings) -> None:
        import vietasr

        from voice.tts.lexicon import lexicon_from_settings
        from voice.tts.pieces import abbreviations_for, prepare

        self._pipe = vietasr.Pipeline.preset(settings.voice.asr.vietasr.preset)
        table = abbreviations_for(settings)
        lexicon = lexicon_from_settings(settings)
        # What the listener should hear (the reference), and what espeak-ng is given: the same, unless the
        # lexicon is switched off to measure what it changes.
        self._prepare: Callable[[str], str] = lambda t: prepare(
            t, max_chars=10_000, abbreviations=table, respell=lambda w: lexicon.apply(w, "espeak")
        )
        self._prepare_raw: Callable[[str], str] = lambda t: prepare(t, max_chars=10_000, abbreviations=table)
        self.settings = settings
        self.seconds_of_audio = 0.0

    def _recognize(self, chunk) -> str:
        import numpy as np

        with self._pipe.stream(sample_rate=chunk.rate) as stream:
            stream.accept(np.ascontiguousarray(chunk.array(), dtype=np.int16))
            return stream.final().text

    def texts(self, sentences: list[str]) -> list[str]:
        return [self._prepare(t) for t in sentences]

    def score(
        self, cand: Candidate, sentences: list[str], *, telephone: bool = False, lexicon: bool = True
    ) -> dict[str, Any]:
        from voice.asr.scoring import corpus_cer
        from voice.audio import ASR_RATE, resample
        from voice.tts.espeak import EspeakEngine

        engine = EspeakEngine(cand.voice, cand.speed, cand.pitch, word_gap=cand.gap)
        refs = self.texts(sentences)
        spoken = refs if lexicon else [self._prepare_raw(t) for t in sentences]
        hyps, audio_s = [], 0.0
        for text in spoken:
            chunk = resample(engine.synthesize(text), ASR_RATE)
            if telephone:
                chunk = telephone_path(chunk)
            audio_s += chunk.duration_s
            hyps.append(self._recognize(chunk))
        self.seconds_of_audio += audio_s
        return {
            "candidate": cand.label,
            "cer": round(corpus_cer(refs, hyps, normalize=_for_scoring), 4),
            "audio_s": round(audio_s, 1),
            "heard": hyps[:2],
        }


def telephone_path(chunk):
    """What a carrier delivers: 8 kHz, G.711 A-law encoded and decoded, back at the chunk's rate."""
    from voice.audio import AudioChunk, alaw_decode, alaw_encode, resample

    narrow = resample(chunk, 8000)
    back = AudioChunk.from_array(alaw_decode(alaw_encode(narrow.array())), 8000)
    return resample(back, chunk.rate)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def search(scorer: Scorer) -> dict[str, Any]:
    """Coordinate descent: variant, then rate, then language, pitch and gap; finalists on the whole set."""
    stages: dict[str, list[dict[str, Any]]] = {}
    seen: dict[Candidate, float] = {}

    def run(stage: str, cands: list[Candidate]) -> list[tuple[float, Candidate]]:
        rows = []
        for cand in cands:
            if cand not in seen:
                started = time.perf_counter()
                result = scorer.score(cand, COARSE)
                seen[cand] = result["cer"]
                stages.setdefault(stage, []).append(
                    {**result, "seconds": round(time.perf_counter() - started, 1)}
                )
                _log(f"{stage:<9} {cand.label:<32} CER {result['cer']:.3f}")
            rows.append((seen[cand], cand))
        return sorted(rows, key=lambda r: r[0])

    base_speed = 130
    ranked = run("variant", [Candidate("vi" + (f"+{v}" if v else ""), base_speed, 50, 0) for v in VARIANTS])
    top = [c for _, c in ranked[:TOP_VARIANTS]]
    ranked = run("rate", [Candidate(c.voice, s, 50, 0) for c in top for s in [base_speed, *RATES]])
    best = ranked[0][1]
    variant = best.voice.partition("+")[2]
    ranked = run(
        "language",
        [Candidate(lang + (f"+{variant}" if variant else ""), best.speed, 50, 0) for lang in LANGUAGES],
    )
    best = ranked[0][1]
    ranked = run("pitch", [Candidate(best.voice, best.speed, p, 0) for p in [50, *PITCHES]])
    best = ranked[0][1]
    ranked = run("gap", [Candidate(best.voice, best.speed, best.pitch, g) for g in [0, *GAPS]])
    overall = sorted(((cer, c) for c, cer in seen.items()), key=lambda r: r[0])
    finalists = [c for _, c in overall[:FINALISTS]]
    default = Candidate(DEFAULT[0], DEFAULT[1], DEFAULT[2], DEFAULT[3])
    final = []
    for cand in [default, *finalists]:
        wide = scorer.score(cand, SENTENCES)
        phone = scorer.score(cand, SENTENCES, telephone=True)
        final.append(
            {
                "candidate": cand.label,
                "cer_16k": wide["cer"],
                "cer_8k_alaw": phone["cer"],
                "heard_16k": wide["heard"],
            }
        )
        _log(f"final     {cand.label:<32} CER 16k {wide['cer']:.3f} 8k {phone['cer']:.3f}")
    chosen = min(final[1:], key=lambda r: r["cer_16k"] + r["cer_8k_alaw"])
    return {"stages": stages, "final": final, "chosen": chosen["candidate"]}


def lexicon_effect(scorer: Scorer, cand: Candidate) -> dict[str, Any]:
    """CER on sentences full of app names and loanwords, with and without the lexicon (16 kHz)."""
    without = scorer.score(cand, LEXICON_SENTENCES, lexicon=False)
    with_ = scorer.score(cand, LEXICON_SENTENCES)
    return {
        "candidate": cand.label,
        "sentences": len(LEXICON_SENTENCES),
        "cer_without_lexicon": without["cer"],
        "cer_with_lexicon": with_["cer"],
        "heard_without": without["heard"],
        "heard_with": with_["heard"],
        "note": "reference = the respelled words (what a listener should hear)",
    }


def configured(settings) -> Candidate:
    cfg = settings.voice.tts.espeak
    return Candidate(cfg.voice, cfg.speed, cfg.pitch, cfg.word_gap)


def run() -> dict[str, Any]:
    from hotline.settings import load_settings

    started = time.perf_counter()
    settings = load_settings()
    scorer = Scorer(settings)
    if os.environ.get("BENCH_TTS_TUNING") == "lexicon":  # only the lexicon figure, for the configured voice
        return {"lexicon": lexicon_effect(scorer, configured(settings))}
    result = search(scorer)
    return {
        **result,
        "lexicon": lexicon_effect(scorer, configured(settings)),
        "sentences": {"coarse": len(COARSE), "final": len(SENTENCES)},
        "recognizer": "vietasr (embedded model), one stream at a time",
        "audio_recognized_s": round(scorer.seconds_of_audio, 1),
        "search_s": round(time.perf_counter() - started, 1),
        "note": "CER = character error rate of vietasr on espeak-ng's speech (spaces and tones count); "
        "coarse stages on every third sentence at 16 kHz, finalists on all sentences at 16 kHz and after "
        "8 kHz G.711 A-law",
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
