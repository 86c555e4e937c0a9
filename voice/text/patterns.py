"""What each written form looks like: the patterns `speech.normalize_for_speech` rewrites, in one place.

Every pattern is anchored at token starts and has no nested open-ended repetition, so each pass is
linear in the length of the text.
"""

from __future__ import annotations

import re

# Characters with nothing to say (emoji, pictographs, private use, controls, format marks).
DROP_CATEGORIES = frozenset({"So", "Sk", "Cs", "Co", "Cn", "Cc", "Cf"})
# Markup and other marks that are not read (Markdown emphasis, headings, tables, quotes).
MARKUP = re.compile(r"[*#_`|^\\<>{}\[\]~•·▪►]+")
# "1. Nộp hồ sơ" at the start of a line: a list number, read with a short pause, not a sentence end.
LIST_NUMBER = re.compile(r"(?m)^([ \t]*)(\d{1,2})\.[ \t]+(?=\S)")
PHONE_KEY = re.compile(r"((?i:phím|nút|bấm|nhấn|ấn)\s+)([*#])")

URL = re.compile(
    r"(?<![\w@.\-/])(?:(?:https?|ftp)://)?(?:[A-Za-z0-9\-]++\.)+"
    r"(?:vn|com|net|org|gov|edu|info|io|int|biz)(?![\w\-])(?:/[\w\-./?=&%#~+]*+)?",
    re.IGNORECASE,
)
EMAIL = re.compile(r"(?<![\w.\-+])[\w.+\-]++@(?:[\w\-]++\.)+[A-Za-z]{2,}(?!\w)")
WEB_PART = re.compile(r"[A-Za-z]+|\d+|[./@\-_:?=&%#~+]")

# Legal document numbers: 797/BTTTT-THH, 13/2023/NĐ-CP, 10/CT-TTg, 24/2023/QH15.
DOC_CODE_PART = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
DOCUMENT = re.compile(
    r"(?<![\w/.\-])(\d{1,5})(?:/(\d{4}))?/(" + DOC_CODE_PART + r"(?:[\-/.]" + DOC_CODE_PART + r")*)(?![\w])"
)
# Party documents put the number first and the issuing body after a slash: 01-KL/TW, 57-NQ/TW, 05-CT/TU.
PARTY_DOCUMENT = re.compile(
    r"(?<![\w/.\-])(\d{1,5})-("
    + DOC_CODE_PART
    + r")/("
    + DOC_CODE_PART
    + r"(?:[\-/.]"
    + DOC_CODE_PART
    + r")*)(?![\w])"
)
# Route numbers: a road class from the table's `roads` section (QL, ĐT, TL...) then a number, optionally
# after a dot or a space, with an optional branch letter (QL7, QL1A, ĐT.534, TL 535). The class is filled in
# by the table; the number is 1-3 digits without a leading zero, so "ĐT 0912..." stays a phone number.
ROAD_TAIL = r")(?:\.|[ \u00a0])?([1-9]\d{0,2})([A-Z]?)(?![\w]|[.,/]\d)"
# Chainage along a road: Km 12+500 (kilometre 12 plus 500 metres).
CHAINAGE = re.compile(r"(?<![\w])[Kk]m[ ]?(\d{1,4})\+(\d{1,3})(?!\d)")

# ID and dossier codes: groups of capitals and digits joined by "." or "-" (000.11.22.H42-241125-0001).
CODE = re.compile(r"(?<![\w.\-/])[A-ZĐ0-9]+(?:[.\-][A-ZĐ0-9]+)+(?![\w]|[.\-/][A-ZĐ0-9])")

# Place and title prefixes written with a dot before a name: "TP. Vinh", "ThS. Lê Hoa", "PGS.TS. Trần".
PLACE_PREFIX = re.compile(r"(?<!\w)(TP|Tp|TX|Tx|TT|ThS|TS|PGS|GS|BS|KS|P|Q|H)\. ?(?=[A-ZĐ]\w)")
# Single-letter unit prefixes of addresses ("P. Hưng Bình", "H. Nghi Lộc"): no table key, since a lone
# capital letter is a letter everywhere else.
PLACE_WORDS = {"TT": "thị trấn", "P": "phường", "Q": "quận", "H": "huyện"}
# "/" between a quantity and what it is counted per: 120.000 đồng/tháng, 7.500 đ/kg, 15.000đ/bản.
PER = re.compile(
    r"(?<=\w)/((?:tháng|năm|ngày|giờ|tuần|quý|người|lần|lượt|hộ|suất|bộ|cái|chiếc|con|bản|trang|hồ sơ|"
    r"kg|km|lít|l|m2|m²|m3|ha|tấn|tạ|sào))(?!\w)"
)
# A house number or lane is not a date: "số 12/3 đường Lê Lợi", "ngõ 45/12", "kiệt 7/2".
ADDRESS_CONTEXT = re.compile(r"(?i:số nhà|nhà số|số|ngõ|ngách|hẻm|kiệt|ngõ số)\s*$")
# A dash between a number and a weekday: "Thứ 2-Thứ 6", "thứ 2 - chủ nhật".
WEEKDAY_WORD_RANGE = re.compile(r"(?<=\d)[ ]?[-–][ ]?(?=(?i:thứ|chủ nhật)(?!\w))")
DATE_CONTEXT = re.compile(
    r"(?i:ngày|mồng|mùng|hôm|từ|đến|tới|và|sáng|chiều|tối|trưa|đêm|trước|sau|hạn|đến hết|kể từ)\s*$"
)
DAY_WORD = re.compile(r"(?i:ngày|mồng|mùng)\s*$")
MONTH_WORD = re.compile(r"(?i:tháng)\s*$")
# Several days of one month: 15-20/12, 15-20/12/2024, "từ 15 đến 20/12".
DAY_RANGE = re.compile(
    r"(?<![\w.,/\-])(\d{1,2})(\s?[-–]\s?|\s+(?i:đến|tới)\s+)(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?![\w/]|[.,]\d)"
)
FULL_DATE = re.compile(r"(?<![\w.,/\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?![\w/\-]|[.,]\d)")
DAY_MONTH = re.compile(r"(?<![\w.,/\-])(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)")
FRACTION_AFTER = re.compile(r"\s+(?i:số|dân số|diện tích|tổng|trong|hộ|người|lượng|thời gian)(?!\w)")
FRACTION = re.compile(r"(?<![\w.,/\-])([1-9])/([2-9]|10)(?![\w/]|[.,]\d)")
MONTH = re.compile(r"(?<!\w)((?i:tháng))\s+(0?[1-9]|1[0-2])(?![\w/]|[.,]\d)")
MONTH_YEAR = re.compile(r"(?<![\w.,/\-])(\d{1,2})/(\d{4})(?![\w/]|[.,]\d)")

# A landline with its area code in brackets: (0238) 3844555, (028) 3822 1234.
AREA_CODE_PHONE = re.compile(r"\((0\d{2,3})\)[ \u00a0]?(\d(?:[ .\-]?\d){6,7})(?!\d)")
PHONE = re.compile(r"(?<![\w+.,/])(\+84|0)((?:[ .\-]?\d){8,11})(?!\d)")
TOLL_FREE = re.compile(r"(?<![\w.,/])(1[89]00)((?:[ .]?\d){4,6})(?![\d]|[.,]\d)")
CALL_CONTEXT = re.compile(
    r"((?i:gọi|gọi tới|gọi đến|gọi số|gọi ngay|gọi ngay số|gọi ngay tới|gọi cho|gọi về|gọi điện|gọi điện tới|"
    r"gọi điện đến|hotline|tổng đài|đường dây nóng|điện thoại|số điện thoại|liên hệ|"
    r"quay số|bấm số|số)\s*:?\s*)(\d{3,5})(?![\w]|[.,/]\d)"
)
# Short numbers that are always telephone numbers when written alone.
SERVICE_NUMBERS = frozenset({"111", "112", "113", "114", "115", "116", "1022", "1080", "1088", "1090"})
SERVICE_ALONE = re.compile(r"(?<![\w.,/])(1022|1080|1088|1090)(?![\w]|[.,/]\d)")

VERSION = re.compile(r"(?<![\w.])[vV](\d{1,4}(?:\.\d{1,4}){1,3})(?![\w]|\.\d)")
RANGE = re.compile(r"(?:(?<=\d)|(?<=\dh))[ \u00a0]?[-–—][ \u00a0]?(?=\d)")
WEEKDAY_RANGE = re.compile(r"(?<!\w)T([2-7])[ ]?[-–][ ]?(T[2-7]|CN)(?!\w)")
WEEKDAY = re.compile(r"(?<!\w)T([2-7])(?!\w)")
TIME_H = re.compile(r"(?<![\w.,:])(\d{1,2})[hHg](\d{2})?(?:ph|p|')?(?![\w])")
TIME_COLON = re.compile(r"(?<![\w.,:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\w:]|[.,]\d)")
ORDINAL = re.compile(r"(?<!\w)((?i:thứ))\s+(\d{1,3})(?![\w]|[.,/]\d)")
ROMAN_CONTEXT = re.compile(
    r"(?<!\w)((?i:quý|thế kỷ|thế kỉ|khóa|kỳ|kì|đại hội|hội nghị|chương|phần|mục|thứ|tập|lớp|giai đoạn|"
    r"quân khu|phụ lục|khu vực))\s+([IVXLCDM]+)(?:/(\d{4}))?(?![\w])"
)
DOLLAR_BEFORE = re.compile(r"(?<![\w])([$€])[ ]?(\d+(?:[.,]\d+)*)")
LONG_DIGITS = re.compile(r"(?<![\w.,])(\d{9,}|0\d{2,})(?![\w]|[.,]\d)")
MONEY_AFTER = re.compile(r"\s*(?:đồng|đô|USD|VND|VNĐ|nghìn|ngàn|triệu|tỷ|tỉ)(?!\w)")
NEGATIVE = re.compile(r"(?<![\w.,)])-(?=\d)")
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
VN_THOUSANDS = re.compile(r"(\d{1,3}(?:\.\d{3})+)(?:,(\d+))?")
EN_THOUSANDS = re.compile(r"(\d{1,3}(?:,\d{3}){2,})(?:\.(\d+))?")
ALNUM = re.compile(r"(?<![\w])[A-Za-zĐđ0-9]*\d[A-Za-zĐđ0-9]*(?![\w])")
RUNS = re.compile(r"[^\W\d_]+|\d+")
WORD = re.compile(r"(?<![\w])[^\W\d_]+(?![\w])")
SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)
SLASH_NUMBERS = re.compile(r"(?<=\d)[/:](?=\d)")  # 24/7, ratios 3:2 (times are read before)
SLASH_WORDS = re.compile(r"(?<=\w)/(?=\w)")
DASH_WORDS = re.compile(r"(?<=\w)[\-–—](?=\w)|\s[\-–—]+\s")
SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")
SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?…)])")
REPEATED_COMMA = re.compile(r"(?:, *){2,}")
LINES = re.compile(r" *\n[\s]*")
