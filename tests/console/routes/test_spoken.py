"""The sentence tester says, in Vietnamese, which words the hotline will synthesize (no recording)."""

from __future__ import annotations

import html
import re

import numpy as np

from tests.console.helpers import csrf_of
from voice.audio import AudioChunk, write_wav

WORDS = {"ct_phieu_so": "phiếu số", "so_1": "một", "so_nghin": "nghìn", "so_2": "hai", "so_tram": "trăm"}
WORDS |= {"so_linh": "linh", "tt_dang_xu_ly": "đang được xử lý"}  # "ba" (so_3) not recorded


def _spoken(page: str) -> str:
    m = re.search(r'<div class="spoken".*?</div>', page, re.S)
    assert m, "no spoken block"
    return html.unescape(m.group(0))


def test_missing_words_are_marked_and_listed_and_answers_checked(console_settings, logged_in):
    take = AudioChunk.from_array(0.2 * np.sin(np.arange(4000) / 5), 8000)
    for key in WORDS:
        write_wav(console_settings.path(console_settings.ivr.prompts_dir) / f"{key}.wav", take)
    page = logged_in.get("/console/intents").text
    r = logged_in.post(
        "/console/intents/speak", data={"csrf": csrf_of(page), "say": "Phiếu số 1203: đang được xử lý."}
    )
    block = _spoken(r.text)
    assert "Tổng đài sẽ đọc câu này" in block and "Câu đọc lẫn hai giọng" in block
    assert '<mark class="synthetic" title="giọng máy">ba</mark>' in block
    assert '<span class="human" title="giọng ghi âm">đang được xử lý</span>' in block
    assert re.search(r"Cần ghi âm thêm: <span class=\"tag\">ba</span>", block)
    assert "so_3" not in r.text and "synthetic" not in re.sub(r'class="[^"]*"', "", block)
    r = logged_in.post("/console/intents/speak", data={"csrf": csrf_of(page), "say": "Phiếu số 1202."})
    assert "Cả câu được đọc bằng giọng ghi âm." in _spoken(r.text)
    # The tester's answer: nothing of it recorded, so the whole answer is synthesized, said so.
    r = logged_in.post("/console/intents/try", data={"csrf": csrf_of(page), "text": "tôi muốn làm căn cước"})
    block = _spoken(r.text)
    assert "Tổng đài sẽ đọc câu trả lời" in block and "Cả câu đọc bằng giọng máy" in block
