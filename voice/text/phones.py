"""Phone numbers as a Vietnamese listener expects them: digit by digit, in the groups they were written in."""

from __future__ import annotations

import re

from voice.text import patterns as P
from voice.text.numbers import digits_to_words, grouped_digits


def phone(m: re.Match[str], plus: str) -> str:
    """0912 345 678, +84 912 345 678, landlines (02xx): in the groups they were written in, else 3-3-3."""
    prefix, rest = m.group(1), m.group(2)
    digits_wanted = 9 if prefix == "+84" else 9 if not rest.lstrip(" .-").startswith("2") else 10
    if prefix == "+84" and rest.lstrip(" .-").startswith("2"):
        digits_wanted = 10
    count, cut = 0, len(rest)
    for i, ch in enumerate(rest):
        if ch.isdigit():
            count += 1
            if count == digits_wanted:
                cut = i + 1
                break
    if count < digits_wanted:
        return m.group(0)
    tail = rest[cut:]
    if tail and tail[0].isdigit():
        return m.group(0)
    body = rest[:cut]
    groups = [g for g in re.split(r"[ .\-]", body) if g]
    if prefix == "0":
        groups[0] = "0" + groups[0]
        spoken = (
            [grouped_digits("".join(groups))] if len(groups) == 1 else [digits_to_words(g) for g in groups]
        )
    else:
        spoken = [f"{plus} {digits_to_words('84')}"]
        spoken += (
            [grouped_digits("".join(groups), (3, 3, 3, 3))]
            if len(groups) == 1
            else [digits_to_words(g) for g in groups]
        )
    return ", ".join(spoken) + tail


def toll_free(m: re.Match[str]) -> str:
    """1800 1234, 1900 123 456: the prefix, then the groups."""
    rest = m.group(2)
    n = sum(c.isdigit() for c in rest)
    if n not in (4, 6):
        return m.group(0)
    groups = [g for g in re.split(r"[ .]", rest) if g]
    if len(groups) == 1:
        groups = [rest.strip(" .")[:3], rest.strip(" .")[3:]] if n == 6 else [rest.strip(" .")]
    return ", ".join([digits_to_words(m.group(1))] + [digits_to_words(g) for g in groups])


def call_number(m: re.Match[str]) -> str:
    """A number after "gọi", "số"...: digit by digit (service numbers only after a bare "số")."""
    context, number = m.group(1), m.group(2)
    if context.strip(" :").lower() == "số" and number not in P.SERVICE_NUMBERS:
        return m.group(0)
    return context + digits_to_words(number)


def service_alone(m: re.Match[str]) -> str:
    """1022, 1080...: digit by digit even with no call context."""
    return digits_to_words(m.group(1))


def area_code(m: re.Match[str]) -> str:
    """(0238) 3844555: the area code, then the subscriber number in its written groups (else 4 + rest)."""
    groups = [g for g in re.split(r"[ .\-]", m.group(2)) if g]
    if len(groups) == 1:
        digits = groups[0]
        groups = [digits[:4], digits[4:]]  # 3844 555, 3822 1234
    return ", ".join(digits_to_words(g) for g in [m.group(1), *groups])


def digit_groups(groups: list[str], dot: str) -> str:
    """Dotted digits with a leading zero: a phone number in pauses, anything else a code with "chấm".

    A phone number starts with a 3-4 digit prefix 0x.. (x not 0) and has 8-11 digits in all
    (0238.3844, 0238.3599.999, 0912.345.678); 000.11.22 is a code.
    """
    first = groups[0]
    if 3 <= len(first) <= 4 and first[1] != "0" and 8 <= sum(len(g) for g in groups) <= 11:
        return ", ".join(digits_to_words(g) for g in groups)
    return f" {dot} ".join(digits_to_words(g) for g in groups)
