"""Masking of real callers' numbers in the national form `core.callerid` gives, alone and in log lines."""

from __future__ import annotations

import logging
import unicodedata

import pytest

from core.callerid import national_caller
from core.masking import MaskingFilter, mask_personal


@pytest.mark.parametrize(
    "presented, masked",
    [
        # Mobile: 10 digits, the last 3 shown.
        ("+84912345678", "*******678"),
        ("sip:0912345678@1.2.3.4;user=phone", "*******678"),
        ("912345678", "*******678"),
        ("tel:+84-98-765-4321", "*******321"),
        # Landline: 11 digits.
        ("+842383123456", "********456"),
        ("(0238) 312-3456", "********456"),
        # Foreign: the plus goes with the rest.
        ("+14155550123", "********123"),
        # Short numbers and our own SIP users are no personal numbers: shown as they are.
        ("1080", "1080"),
        ("19001234", "19001234"),
        ("caller", "caller"),
        ("operator2", "operator2"),
    ],
)
def test_national_numbers_are_masked_to_their_last_three_digits(presented, masked):
    national = national_caller(presented)
    assert national is not None
    assert mask_personal(national) == masked


def test_one_caller_is_masked_alike_whatever_form_the_network_gave():
    forms = ["+84912345678", "84912345678", "0084912345678", "912345678", "<sip:+84912345678@host>"]
    # Masked as presented, the forms differ (a longer run of stars for the country code) ...
    assert len({mask_personal(f) for f in forms}) > 1
    # ... in the national form they are one masked number.
    assert {mask_personal(national_caller(f) or "") for f in forms} == {"*******678"}


@pytest.mark.parametrize(
    "line, expected",
    [
        ("call hl-1795582551.12 from 0912345678", "call hl-1795582551.12 from *******678"),
        (
            "call ch-7 from 02383123456 (transfer to PJSIP/operator)",
            "call ch-7 from ********456 (transfer to PJSIP/operator)",
        ),
        (
            "ticket 482913 for 0912345678, call 0987654321 back",
            "ticket 482913 for *******678, call *******321 back",
        ),
        ("caller +14155550123 hung up", "caller ********123 hung up"),
        ("call ch-2 from caller on 1080", "call ch-2 from caller on 1080"),
    ],
)
def test_log_lines_with_national_numbers_are_masked(line, expected):
    assert mask_personal(line) == expected


def test_the_logging_filter_masks_a_normalised_caller(caplog):
    logger = logging.getLogger("test.callerid.mask")
    logger.addFilter(MaskingFilter())
    caller = national_caller("sip:+84912345678@1.2.3.4;user=phone")
    with caplog.at_level(logging.INFO, logger="test.callerid.mask"):
        logger.info("call %s from %s", "hl-1", caller)
        logger.info("call %s from %s", "hl-2", national_caller("+842383123456"))
    assert caplog.messages == ["call hl-1 from *******678", "call hl-2 from ********456"]
    assert "0912345678" not in caplog.text and "2383123456" not in caplog.text


@pytest.mark.parametrize(
    "transcript, expected",
    [
        ("không chín một hai ba bốn năm sáu bảy tám", "*******678"),
        # Grouped with pauses, regional forms (mốt, lăm, bẩy), a request around it.
        ("số em là không chín mốt hai, ba bốn lăm, sáu bẩy tám nhé", "số em là *******678 nhé"),
        ("Không Chín Một Hai Ba Bốn Năm Sáu Bảy Tám", "*******678"),
        # A recognizer without diacritics; the drawn-out Nghệ An zero; "linh" and "tư".
        ("khong chin mot hai ba bon nam sau bay tam", "*******678"),
        ("khôông chín tư linh hai ba bốn năm sáu nhăm", "*******565"),
        # Numerals and words mixed; a 12-digit CCCD number read out.
        ("0912 ba bốn năm sáu bảy tám", "*******678"),
        ("căn cước không bốn không không chín lăm không không một hai ba bốn", "căn cước *********234"),
        # Decomposed accents (NFD) are the same words.
        (unicodedata.normalize("NFD", "không chín một hai ba bốn năm sáu bảy tám"), "*******678"),
    ],
)
def test_numbers_spoken_as_words_are_masked(transcript, expected):
    assert mask_personal(transcript) == expected


@pytest.mark.parametrize(
    "text",
    [
        "một hai ba bốn năm sáu bảy tám",  # 8 digits: a dossier code, not a personal number
        "năm 2025 tôi ba mươi tuổi, nhà có hai con",
        "tôi muốn hỏi về căn cước, ba mẹ tôi ở xã Nam Đàn",
        "RTP ports 10000, 10999 and 12000",  # numerals alone: the written-number rule decides
    ],
)
def test_ordinary_speech_and_short_codes_are_not_masked(text):
    assert mask_personal(text) == text


def test_a_device_token_in_a_logged_address_is_masked():
    from core.masking import mask_personal

    token = "tt_YVhk7WEVL5mFh-wJ6fTNJYlL_R_tvAqmvOpll5r5M6w"
    line = f'127.0.0.1 - "GET /truyen-thanh/tep/3/a.mp3?token={token} HTTP/1.1" 200'
    masked = mask_personal(line)
    assert "YVhk7" not in masked and "?token=tt_*** HTTP/1.1" in masked
    assert mask_personal("tt_short") == "tt_short"  # not a token: left as written
