"""Text normalization benchmark: matching cost per phrase, speech normalization per 10,000 characters.

`python -m bench.voice_text` prints the result; `make bench` stores it under "text" in
bench/results/voice.json.
"""

from __future__ import annotations

import json
import time

PHRASES = [
    "Tôi muốn hỏi về thủ tục cấp lại căn cước công dân",
    "số 5 phường Hưng Bình, thành phố Vinh",
    "hoà thuỷ khoẻ, làm sao đăng ký VNeID mức 2",
    "cho tôi tra cứu hồ sơ 000.11.22.H42-241125-0001",
    "phản ánh đèn đường hỏng ở xóm 3 đã 5 ngày",
    "giờ làm việc của bộ phận một cửa từ 7h30 đến 17h",
]
PARAGRAPH = (
    "Ngày 30/9/2023, UBND xã tổ chức tiếp nhận 1.500 hồ sơ TTHC qua dichvucong.gov.vn theo Quyết định số "
    "797/QĐ-UBND; mọi thắc mắc xin gọi 1022 hoặc 0238 3 844 555 từ 7h30-11h30. Phí: 50.000đ, tăng 2,5%.\n"
)
ADVERSARIAL = {
    "digits": "1" * 10000,
    "dots": "1." * 5000,
    "letters_dots": "a." * 5000,
    "slashes": "1/" * 5000,
    "capitals": "A" * 10000,
    "emoji": "\U0001f600" * 10000,
}


def _per_call(fn, arg, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn(arg)
    return (time.perf_counter() - started) / repeat


def run() -> dict[str, object]:
    from voice.text import normalize_for_speech
    from voice.text.matching import _normalize

    normalize_for_speech("khởi động")  # loads the table once

    def uncached(p: str) -> str:  # new caller text: the per-string cache does not help
        return _normalize.__wrapped__(p, False)

    matching_us = max(_per_call(uncached, p, 2000) for p in PHRASES) * 1e6
    text = (PARAGRAPH * 60)[:10000]
    speech_ms = _per_call(normalize_for_speech, text, 5) * 1e3
    worst = {name: round(_per_call(normalize_for_speech, t, 2) * 1e3, 1) for name, t in ADVERSARIAL.items()}
    return {
        "matching_us_per_phrase_max": round(matching_us, 1),
        "speech_ms_per_10000_chars": round(speech_ms, 1),
        "speech_ms_adversarial_10000_chars": worst,
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
