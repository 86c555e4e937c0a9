"""Dial strings: the endpoints a transfer rings."""

from __future__ import annotations

import pytest

from asterisk.dial import dial_targets


@pytest.mark.parametrize(
    "spec,targets",
    [
        ("", ()),
        ("PJSIP/operator", ("PJSIP/operator",)),
        ("PJSIP/operator&PJSIP/operator2", ("PJSIP/operator", "PJSIP/operator2")),
        (" PJSIP/operator & PJSIP/operator2 &PJSIP/operator", ("PJSIP/operator", "PJSIP/operator2")),
        ("PJSIP/0912345678@trunk", ("PJSIP/0912345678@trunk",)),
    ],
)
def test_dial_targets_of_a_dial_string(spec, targets):
    assert dial_targets(spec) == targets


@pytest.mark.parametrize("spec", ["operator", "PJSIP/op&", "&PJSIP/op", "PJSIP/a,20", "PJSIP/a b", "/x"])
def test_dial_targets_reject_what_dial_would_not_take(spec):
    with pytest.raises(ValueError, match="TECH/resource"):
        dial_targets(spec)
