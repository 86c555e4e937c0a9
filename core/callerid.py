"""Caller numbers in the one form the hotline stores and shows, whatever form the network gave.

Carrier trunks and GSM gateways present the same Vietnamese number as `+84912345678`, `84912345678`,
`0084912345678`, `912345678`, in `tel:`/`sip:` URIs or with spaces, dots and dashes. The call log,
tickets and the operator's phone all use the national form, so that one caller is masked, hashed
(repeat callers) and compared the same way whichever way the call came in.

`national_caller(number, name)` returns one of:

- the national form: `0912345678` (mobile), `02383123456` (landline); service and short numbers
  (`19001234`, `1080`, `113`) stay as they are;
- `+<digits>` for a foreign number (`+14155550123`);
- the user name of a SIP user of our own Asterisk (`caller`, `operator2`), as it is: test callers
  and softphones, not personal numbers;
- None when the number is withheld: anonymous, restricted, unavailable, empty, or anything that
  cannot be a phone number. The call log stores a withheld number as the empty string; people see
  `WITHHELD_LABEL` for it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# What operators see for a withheld number (console pages, their phone's display on a transfer).
WITHHELD_LABEL = "Số ẩn"

COUNTRY_CODE = "84"
MAX_DIGITS = 15  # ITU-T E.164: no phone number is longer, with its country code

# Words networks and phones send instead of a withheld number (compared in lower case).
WITHHELD_WORDS = frozenset(
    {"anonymous", "restricted", "private", "unknown", "unavailable", "withheld", "blocked", "none", "null"}
)
# Display names that mean the caller asked to hide the number. Not "unknown"/"unavailable": as a name,
# those often only say that no name is known, while the number is real.
PRIVATE_NAMES = frozenset({"anonymous", "restricted", "private", "withheld", "blocked"})

# Endpoint names of our own Asterisk (pjsip.conf) are lower-case words; a carrier presents digits, or
# one of the words above for a withheld number.
_SIP_USER = re.compile(r"[a-z][a-z0-9_.\-]{0,31}")
# Visual separators of RFC 3966 and spaces: '0912 345 678', '091.234.5678', '(024) 3826-1234'.
_SEPARATORS = re.compile(r"[\s.\-()/]")
_NUMBER = re.compile(r"(\+?)([0-9]+)")  # [0-9], not \d: no other script's digits in a phone number
# A national significant number (the national form without its 0) after an explicit +84: mobile
# numbers have 9 digits and start with 3, 5, 7, 8 or 9; landlines have 10 and start with 2 (area code).
_NSN = re.compile(r"[35789][0-9]{8}|2[0-9]{9}")
# The same without any prefix (a carrier dropped the 0): only the mobile prefixes in use and landline
# area codes, so that an extension or a code of 9-10 digits is not taken for a phone number.
_BARE_NSN = re.compile(r"(?:3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9])[0-9]{7}|2[0-9]{9}")


def national_caller(number: str | None, name: str | None = None) -> str | None:
    """The caller as the hotline keeps it (see the module's docstring); None: withheld.

    `number` and `name` are the ARI channel's `caller.number` and `caller.name`. The number decides,
    except that a display name saying the number is private (`Anonymous`, `Restricted`) withholds it:
    the caller asked for that and a network passed the number on anyway. When the number is empty or a
    SIP user name, a display name that is a phone number is taken instead (GSM gateways may present
    the caller's number as the display name of their own SIP user).
    """
    given = _parse(number)
    if given is None and (number or "").strip():
        return None  # withheld, or nothing that can be a phone number
    if (name or "").strip().lower() in PRIVATE_NAMES:
        return None
    if given is not None and _is_phone(given):
        return given
    shown = _parse(name)
    if shown is not None and _is_phone(shown):
        return shown
    return given


def _is_phone(caller: str) -> bool:
    return _NUMBER.fullmatch(caller) is not None


def _parse(text: str | None) -> str | None:
    user = _user_part(text or "")
    if not user or user.lower() in WITHHELD_WORDS:
        return None
    if _SIP_USER.fullmatch(user):
        return user
    m = _NUMBER.fullmatch(_SEPARATORS.sub("", user))
    if m is None:
        return None
    return _from_digits(m.group(1) == "+", m.group(2))


def _user_part(text: str) -> str:
    """'0912345678' from '<sip:0912345678@1.2.3.4;user=phone>', 'tel:+84912345678;phone-context=x' ..."""
    text = text.strip()
    bracketed = re.search(r"<([^>]*)>", text)
    if bracketed:
        text = bracketed.group(1).strip()
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if colon and scheme in ("sip", "sips"):
        user, at, _host = rest.partition("@")
        text = user if at else ""  # 'sip:host': no user, so no number
    elif colon and scheme == "tel":
        text = rest
    else:
        return unquote(text).strip()
    return unquote(text.split(";", 1)[0].split("?", 1)[0]).strip()


def _from_digits(plus: bool, digits: str) -> str | None:
    if not plus and digits.startswith("00"):  # the international prefix, as dialled in Vietnam
        plus, digits = True, digits[2:]
    if plus and digits.startswith("0"):  # no country code starts with 0: a stray '+' on a national number
        plus = False
    if not digits or len(digits) > MAX_DIGITS:
        return None
    # '84...' without '+' is the country code only at the lengths of +84 and a national number.
    if digits.startswith(COUNTRY_CODE) and (plus or len(digits) in (11, 12)):
        nsn = digits[len(COUNTRY_CODE) :]
        nsn = nsn[1:] if nsn.startswith("0") else nsn  # '+84 0912...': the national 0 kept by mistake
        if _NSN.fullmatch(nsn):
            return "0" + nsn
    if plus:
        return "+" + digits
    if _BARE_NSN.fullmatch(digits):
        return "0" + digits
    return digits
