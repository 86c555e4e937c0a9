"""Caller numbers as carriers, gateways and our own SIP users present them, in the form the hotline keeps."""

from __future__ import annotations

import pytest

from core.callerid import national_caller

MOBILE = "0912345678"
LANDLINE = "02383123456"  # Nghệ An (area code 238): 11 digits in the national form


@pytest.mark.parametrize(
    "number, expected",
    [
        # One Vietnamese mobile number in every form a trunk or gateway may give it.
        ("+84912345678", MOBILE),
        ("84912345678", MOBILE),
        ("0084912345678", MOBILE),
        ("0912345678", MOBILE),
        ("912345678", MOBILE),  # the carrier dropped the national 0
        ("tel:+84912345678", MOBILE),
        ("tel:+84-91-234-5678;phone-context=+84", MOBILE),
        ("sip:0912345678@1.2.3.4;user=phone", MOBILE),
        ("sip:+84912345678;npdi@carrier.example.vn", MOBILE),
        ("SIP:+84912345678@1.2.3.4:5060", MOBILE),
        ("sips:%2B84912345678@carrier.example.vn", MOBILE),
        ("<sip:+84912345678@host>", MOBILE),
        ('"Nguyen Van A" <sip:0912345678@host>', MOBILE),
        ("+84 912 345 678", MOBILE),
        ("091.234.5678", MOBILE),
        ("091-234-5678", MOBILE),
        ("  0912 345 678  ", MOBILE),
        ("+84 0912345678", MOBILE),  # the national 0 kept after the country code
        ("840912345678", MOBILE),
        ("+0912345678", MOBILE),  # no country code starts with 0: a stray plus
        # Other mobile networks' prefixes, 9 digits without the 0.
        ("386123456", "0386123456"),
        ("562345678", "0562345678"),
        ("705123456", "0705123456"),
        ("845123456", "0845123456"),  # 084 (starts like the country code, but 9 digits)
        # Landlines: 10-digit national significant number, 11 digits national.
        ("+842383123456", LANDLINE),
        ("842383123456", LANDLINE),
        ("00842383123456", LANDLINE),
        ("02383123456", LANDLINE),
        ("2383123456", LANDLINE),
        ("(0238) 312-3456", LANDLINE),
        ("+842438261234", "02438261234"),  # Hà Nội (024)
        ("sip:+842838221234@10.0.0.1;user=phone", "02838221234"),  # TP Hồ Chí Minh (028)
        # Foreign numbers keep the international form: digits after a plus.
        ("+14155550123", "+14155550123"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("0014155550123", "+14155550123"),
        ("+442079460958", "+442079460958"),
        ("tel:+44-20-7946-0958", "+442079460958"),
        ("+8419001234", "+8419001234"),  # +84 but no mobile or landline number: not guessed at
        # Service and short numbers, and numbers that are not clearly national ones, stay as they are.
        ("1080", "1080"),
        ("113", "113"),
        ("19001234", "19001234"),
        ("123456789", "123456789"),  # 9 digits, but no mobile prefix: not made into 0123456789
        ("612345678", "612345678"),
        ("84123456789", "84123456789"),  # '84' then no valid national number
        ("sip:1080@192.168.1.10", "1080"),
        # Our own Asterisk's SIP users (test caller, softphones, operator seats) are kept as they are.
        ("caller", "caller"),
        ("operator", "operator"),
        ("operator2", "operator2"),
        ("sip:caller@127.0.0.1", "caller"),
        ("Caller <caller>", "caller"),
        # Withheld: None.
        ("anonymous", None),
        ("Anonymous", None),
        ("ANONYMOUS", None),
        ("restricted", None),
        ("Restricted", None),
        ("unknown", None),
        ("Unknown", None),
        ("unavailable", None),
        ("private", None),
        ("Private", None),
        ("withheld", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("sip:anonymous@anonymous.invalid", None),
        ('"Anonymous" <sip:anonymous@anonymous.invalid>', None),
        ("tel:anonymous", None),
        ("sip:10.0.0.1", None),  # a URI with no user: no number
        ("+", None),
        ("00", None),
        # Not a number at all, or longer than any phone number: nothing to call back either.
        ("Out of area", None),
        ("0912abc678", None),
        ("*31#0912345678", None),
        ("+84912345678901234", None),
        ("٠٩١٢٣٤٥٦٧٨", None),  # Arabic-Indic digits: not what a phone network sends
    ],
)
def test_national_caller(number, expected):
    assert national_caller(number) == expected


@pytest.mark.parametrize(
    "number, name, expected",
    [
        ("+84912345678", "Nguyen Van A", MOBILE),
        ("0912345678", "Unknown", MOBILE),  # as a name, "Unknown" means no name is known
        ("0912345678", "", MOBILE),
        ("caller", "Caller", "caller"),
        # A display name saying the number is private withholds it, even when the network passed it on.
        ("+84912345678", "Anonymous", None),
        ("0912345678", "Restricted", None),
        ("0912345678", " private ", None),
        # A withheld number stays withheld whatever the name says.
        ("anonymous", "0912345678", None),
        ("Restricted", "Restricted", None),
        # No number, or a gateway's own SIP user: a display name that is a phone number is taken.
        ("", "+84 912 345 678", MOBILE),
        (None, "0912345678", MOBILE),
        ("goip1", "0912345678", MOBILE),
        ("", "Nguyen Van A", None),
        ("", "Anonymous", None),
        ("goip1", "Unknown", "goip1"),
    ],
)
def test_national_caller_with_the_display_name(number, name, expected):
    assert national_caller(number, name) == expected


def test_every_form_of_one_number_is_the_same_caller():
    forms = [
        "+84912345678",
        "84912345678",
        "0084912345678",
        "0912345678",
        "912345678",
        "tel:+84912345678",
        "sip:0912345678@1.2.3.4;user=phone",
        "<sip:+84912345678@host>",
    ]
    assert {national_caller(f) for f in forms} == {MOBILE}
