"""Administrative text read the way a listener expects: a table in the style of Nghệ An's bulletins.

Each class of written form is recognised by its shape and the words around it (voice/text/patterns.py);
the cases below are the sentences a commune radio or the hotline actually reads.
"""

from __future__ import annotations

import pytest

from voice.text import normalize_for_speech
from voice.text.table import load_table

ADMIN = [
    # telephone numbers: landlines with a dot or brackets after the area code, hotlines, service numbers
    (
        "Mọi phản ánh xin gọi đường dây nóng 0238.3599.999.",
        "Mọi phản ánh xin gọi đường dây nóng không hai ba tám, ba năm chín chín, chín chín chín.",
    ),
    (
        "Liên hệ Văn phòng UBND tỉnh, ĐT: 0238.3844.555",
        "Liên hệ Văn phòng ủy ban nhân dân tỉnh, điện thoại: không hai ba tám, ba tám bốn bốn, năm năm năm",
    ),
    ("Số điện thoại: (0238) 3844555", "Số điện thoại: không hai ba tám, ba tám bốn bốn, năm năm năm"),
    ("Fax: 0238.3598.123", "Fax: không hai ba tám, ba năm chín tám, một hai ba"),
    (
        "Trực ban: 0238 3 599 999 hoặc 0912.345.678",
        "Trực ban: không hai ba tám, ba, năm chín chín, chín chín chín hoặc không chín một hai, ba bốn "
        "năm, sáu bảy tám",
    ),
    ("Gọi 1022 để được hỗ trợ miễn phí.", "Gọi một không hai hai để được hỗ trợ miễn phí."),
    (
        "Tổng đài 1900 1234 hoạt động 24/7.",
        "Tổng đài một chín không không, một hai ba bốn hoạt động hai mươi bốn trên bảy.",
    ),
    ("Hotline: 1800.1091", "Hotline: một tám không không, một không chín một"),
    ("Gọi ngay 113 khi có sự cố an ninh.", "Gọi ngay một một ba khi có sự cố an ninh."),
    ("Số máy lẻ: 0238.3844", "Số máy lẻ: không hai ba tám, ba tám bốn bốn"),
    ("ĐT 0912345678", "điện thoại không chín một hai, ba bốn năm, sáu bảy tám"),
    ("(028) 3822 1234", "không hai tám, ba tám hai hai, một hai ba bốn"),
    ("Số 000.11.22", "Số không không không chấm một một chấm hai hai"),
    # document numbers: the hyphen is silent, the slash is "trên", party numbers keep their leading zero
    (
        "Quyết định 1234/QĐ-UBND ngày 5/12/2024 của UBND tỉnh",
        "Quyết định một nghìn hai trăm ba mươi bốn trên quy đê ủy ban nhân dân ngày năm tháng mười hai "
        "năm hai nghìn không trăm hai mươi bốn của ủy ban nhân dân tỉnh",
    ),
    (
        "Căn cứ Quyết định số 15/2024/QĐ-UBND",
        "Căn cứ Quyết định số mười lăm năm hai nghìn không trăm hai mươi bốn trên quy đê ủy ban nhân dân",
    ),
    (
        "Công văn số 2345/UBND-NN về phòng chống rét cho đàn vật nuôi",
        "Công văn số hai nghìn ba trăm bốn mươi lăm trên ủy ban nhân dân en nờ en nờ về phòng chống rét "
        "cho đàn vật nuôi",
    ),
    ("Công văn 123/UBND-VX", "Công văn một trăm hai mươi ba trên ủy ban nhân dân vê ích xì"),
    (
        "Nghị quyết 57-NQ/TW của Bộ Chính trị",
        "Nghị quyết năm mươi bảy nờ quy trên trung ương của Bộ Chính trị",
    ),
    ("Thực hiện Kết luận số 01-KL/TW", "Thực hiện Kết luận số không một ca lờ trên trung ương"),
    (
        "Chỉ thị 05-CT/TU của Ban Thường vụ Tỉnh ủy",
        "Chỉ thị không năm xê tê trên tê u của Ban Thường vụ Tỉnh ủy",
    ),
    ("Quy định 144-QĐ/TW", "Quy định một trăm bốn mươi bốn quy đê trên trung ương"),
    (
        "Nghị quyết 03/2024/NQ-HĐND tỉnh",
        "Nghị quyết không ba năm hai nghìn không trăm hai mươi bốn trên nờ quy hội đồng nhân dân tỉnh",
    ),
    ("Thông báo số 45/TB-UBND", "Thông báo số bốn mươi lăm trên tê bê ủy ban nhân dân"),
    (
        "Kế hoạch 120/KH-UBND triển khai Đề án 06",
        "Kế hoạch một trăm hai mươi trên ca hát ủy ban nhân dân triển khai Đề án sáu",
    ),
    ("Tờ trình 88/TTr-SNV", "Tờ trình tám mươi tám trên tê tê rờ ét xì en nờ vê"),
    ("Nghị định 100/2019/NĐ-CP", "Nghị định một trăm năm hai nghìn không trăm mười chín trên nờ đê xê pê"),
    (
        "Thông tư 01/2022/TT-BTP",
        "Thông tư không một năm hai nghìn không trăm hai mươi hai trên tê tê bê tê pê",
    ),
    ("Quyết định 2345/QĐ-TTg", "Quyết định hai nghìn ba trăm bốn mươi lăm trên quy đê tê tê giê"),
    ("Hướng dẫn 12-HD/BTGTU", "Hướng dẫn mười hai hát đê trên bê tê giê tê u"),
    (
        "Luật số 31/2024/QH15",
        "Luật số ba mươi mốt năm hai nghìn không trăm hai mươi bốn trên quốc hội mười lăm",
    ),
    ("Quyết định 1234/QĐ-UBND", "Quyết định một nghìn hai trăm ba mươi bốn trên quy đê ủy ban nhân dân"),
    # route numbers and chainage
    ("Tai nạn trên QL7 đoạn qua huyện Anh Sơn", "Tai nạn trên quốc lộ bảy đoạn qua huyện Anh Sơn"),
    ("Sạt lở tại Km 12+500 QL1A", "Sạt lở tại ki lô mét mười hai cộng năm trăm quốc lộ một a"),
    ("Nâng cấp ĐT.534 qua xã Nghi Phong", "Nâng cấp đường tỉnh năm trăm ba mươi bốn qua xã Nghi Phong"),
    ("Cấm đường tạm thời trên tuyến ĐT 535", "Cấm đường tạm thời trên tuyến đường tỉnh năm trăm ba mươi lăm"),
    ("Thông xe QL46 đoạn Vinh – Cửa Hội", "Thông xe quốc lộ bốn mươi sáu đoạn Vinh, Cửa Hội"),
    ("Tuyến TL 598 bị ngập sâu", "Tuyến tỉnh lộ năm trăm chín mươi tám bị ngập sâu"),
    ("QL48E qua huyện Quỳ Hợp", "quốc lộ bốn mươi tám e qua huyện Quỳ Hợp"),
    # money, with "/" read as "một" (per)
    ("Lệ phí 15.000đ/bản", "Lệ phí mười lăm nghìn đồng một bản"),
    ("Hỗ trợ 2,5 tỷ đồng cho các hộ bị thiệt hại", "Hỗ trợ hai phẩy năm tỷ đồng cho các hộ bị thiệt hại"),
    ("Mức phạt từ 200.000-300.000 đồng", "Mức phạt từ hai trăm nghìn đến ba trăm nghìn đồng"),
    ("Kinh phí 1.250.000.000 đồng", "Kinh phí một tỷ hai trăm năm mươi triệu đồng"),
    ("hỗ trợ 1,2 triệu đồng/tháng", "hỗ trợ một phẩy hai triệu đồng một tháng"),
    ("Giá lúa 7.500 đ/kg", "Giá lúa bảy nghìn năm trăm đồng một ki lô gam"),
    ("Tổng thu ngân sách đạt 18.500 tỷ đồng", "Tổng thu ngân sách đạt mười tám nghìn năm trăm tỷ đồng"),
    # percentages
    ("Tiền điện tăng 4,8%", "Tiền điện tăng bốn phẩy tám phần trăm"),
    ("tỷ lệ hộ nghèo giảm còn 2,3%", "tỷ lệ hộ nghèo giảm còn hai phẩy ba phần trăm"),
    ("đạt 98,5% kế hoạch", "đạt chín mươi tám phẩy năm phần trăm kế hoạch"),
    ("tăng 3-5% so với cùng kỳ", "tăng ba đến năm phần trăm so với cùng kỳ"),
    ("Tỷ lệ tham gia BHYT đạt 95%", "Tỷ lệ tham gia bảo hiểm y tế đạt chín mươi lăm phần trăm"),
    # times and opening hours
    (
        "Thời gian làm việc 7h30-11h30 và 13h30-17h00",
        "Thời gian làm việc bảy giờ ba mươi phút đến mười một giờ ba mươi phút và mười ba giờ ba mươi "
        "phút đến mười bảy giờ",
    ),
    (
        "Tiếp công dân từ 7h00 đến 11h30 sáng thứ 5 hằng tuần",
        "Tiếp công dân từ bảy giờ đến mười một giờ ba mươi phút sáng thứ năm hằng tuần",
    ),
    (
        "Hạn nộp hồ sơ trước 17h ngày 30/6/2025",
        "Hạn nộp hồ sơ trước mười bảy giờ ngày ba mươi tháng sáu năm hai nghìn không trăm hai mươi lăm",
    ),
    # dates and ranges of days
    ("Nghỉ Tết từ 15-20/12", "Nghỉ Tết từ ngày mười lăm đến ngày hai mươi tháng mười hai"),
    (
        "từ ngày 25-30/01/2025",
        "từ ngày hai mươi lăm đến ngày ba mươi tháng một năm hai nghìn không trăm hai mươi lăm",
    ),
    ("từ 15 đến 20/12", "từ ngày mười lăm đến ngày hai mươi tháng mười hai"),
    ("Ngày 5/12, đoàn công tác làm việc tại xã", "Ngày năm tháng mười hai, đoàn công tác làm việc tại xã"),
    (
        "Từ 01/01/2025 đến 31/12/2025",
        "Từ ngày một tháng một năm hai nghìn không trăm hai mươi lăm đến ngày ba mươi mốt tháng mười "
        "hai năm hai nghìn không trăm hai mươi lăm",
    ),
    (
        "Giai đoạn 2021-2025",
        "Giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi lăm",
    ),
    ("Thứ 2-Thứ 6", "Thứ hai đến Thứ sáu"),
    # addresses: unit prefixes with a dot, house numbers that are not dates
    (
        "Trụ sở: số 12, đường Lê Lợi, P. Hưng Bình, TP. Vinh",
        "Trụ sở: số mười hai, đường Lê Lợi, phường Hưng Bình, thành phố Vinh",
    ),
    ("Địa chỉ: xóm 3, xã Nghi Liên, TP. Vinh", "Địa chỉ: xóm ba, xã Nghi Liên, thành phố Vinh"),
    ("khối 5, P. Trường Thi", "khối năm, phường Trường Thi"),
    ("thị trấn Quán Hành, H. Nghi Lộc", "thị trấn Quán Hành, huyện Nghi Lộc"),
    ("số 16, đường Trường Thi, Q. Ba Đình", "số mười sáu, đường Trường Thi, quận Ba Đình"),
    ("nhà số 45/12 đường Nguyễn Du", "nhà số bốn mươi lăm trên mười hai đường Nguyễn Du"),
    ("nhà số 12/3 đường Lê Lợi", "nhà số mười hai trên ba đường Lê Lợi"),
    # measurements in weather and disaster bulletins
    ("Lượng mưa phổ biến 50-100 mm", "Lượng mưa phổ biến năm mươi đến một trăm mi li mét"),
    ("Nhiệt độ thấp nhất 8-10°C", "Nhiệt độ thấp nhất tám đến mười độ xê"),
    ("Diện tích lúa bị ngập 1.200 ha", "Diện tích lúa bị ngập một nghìn hai trăm héc ta"),
    ("Gió giật cấp 8-9", "Gió giật cấp tám đến chín"),
    ("Quãng đường 25 km", "Quãng đường hai mươi lăm ki lô mét"),
    (
        "Gần 2.500 hộ dân với hơn 10.000 nhân khẩu",
        "Gần hai nghìn năm trăm hộ dân với hơn mười nghìn nhân khẩu",
    ),
]


@pytest.mark.parametrize(("text", "spoken"), ADMIN)
def test_administrative_text(text, spoken):
    assert normalize_for_speech(text) == spoken


@pytest.mark.parametrize(
    "text",
    ["Quyết định 1234/QĐ-UBND", "01-KL/TW", "Nghị quyết 57-NQ/TW", "Công văn 123/UBND-VX", "13/2023/NĐ-CP"],
)
def test_hyphen_in_a_document_code_is_never_minus(text):
    assert "trừ" not in normalize_for_speech(text).split()


@pytest.mark.parametrize(
    ("text", "start"),
    [("01-KL/TW", "không một"), ("05-CT/TU", "không năm"), ("09/2025/NQ-HĐND", "không chín năm")],
)
def test_leading_zero_of_a_document_number_is_kept(text, start):
    assert normalize_for_speech(text).startswith(start + " ")


@pytest.mark.parametrize(
    "text",
    ["0238.3844", "0238.3844.555", "0238.3599.999", "(0238) 3844555", "ĐT: 0238.3844", "024.3822.1234"],
)
def test_a_landline_with_a_dot_is_never_a_decimal(text):
    spoken = normalize_for_speech(text)
    assert "phẩy" not in spoken and "nghìn" not in spoken and "triệu" not in spoken
    assert spoken.split(", ")[0].endswith("không hai ba tám") or spoken.startswith("không hai bốn")


def _table_with(tmp_path, old: str, new: str):
    shipped = load_table().source
    text = open(shipped, encoding="utf-8").read()
    assert old in text
    path = tmp_path / "abbr.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_table(path)


def test_document_hyphen_word_comes_from_the_table(tmp_path):
    table = _table_with(tmp_path, 'document_hyphen: ""', "document_hyphen: gạch ngang")
    assert normalize_for_speech("Công văn 123/UBND-VX", table) == (
        "Công văn một trăm hai mươi ba trên ủy ban nhân dân gạch ngang vê ích xì"
    )


def test_road_classes_come_from_the_table(tmp_path):
    table = _table_with(tmp_path, "  ĐT: đường tỉnh\n", "")
    assert normalize_for_speech("QL7 và ĐT.534", table) == "quốc lộ bảy và đê tê chấm năm ba bốn"
