from __future__ import annotations

import logging

import pytest

from core.masking import MaskingFilter, mask_personal


@pytest.mark.parametrize(
    "text, expected",
    [
        ("gọi từ 0912345678", "gọi từ *******678"),
        ("số CCCD 040095001234 nhé", "số CCCD *********234 nhé"),
        ("+84 912 345 678", "********678"),
        ("hồ sơ số 123", "hồ sơ số 123"),
        ("năm 2025, tổng đài 1900", "năm 2025, tổng đài 1900"),
        ("call hotline-1795582551.0 from 0912345678", "call hotline-1795582551.0 from *******678"),
    ],
)
def test_mask_personal(text, expected):
    assert mask_personal(text) == expected


def test_filter_masks_args_in_log_records(caplog):
    logger = logging.getLogger("test.mask")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("caller %s said %r", "0912345678", "xin chào")
    assert "0912345678" not in caplog.text and "*******678" in caplog.text
