"""Calls from the public network: a second Asterisk plays an A-law-only carrier in front of the hotline.

A pjsua2 citizen with a national mobile number registers at the carrier and dials the hotline's
numbers; the hotline's own Asterisk registers to the carrier (digest), also takes an IP-authenticated
trunk from another address, and a GSM gateway registers to it. An officer's mobile registered at the
carrier takes a transfer. Everything on loopback, real SIP and RTP, the real recognizer.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from asterisk.trunk_status import trunk_status
from core.db import engine_for, session_factory
from ivr.models import Call, Ticket
from ivr.tones import RINGBACK_HZ
from sip.caller import call
from sip.script import CallScript, CallTarget
from voice.audio import read_audio

from ..conftest import FIXTURES
from .carrier import (
    CITIZEN,
    GATEWAY2_ADDRESS,
    GATEWAY2_DID,
    GATEWAY_DID,
    HOTLINE_USER,
    IP_DID,
    OFFICER,
    REGISTER_DID,
    STRANGER,
    trunk_lab,
)
from .conftest import RunningHotline, free_rtp_range
from .test_call_e2e import AgentProcess, audible_between, tone_between

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

ANH_SON = "17329"  # the commune whose digital technology team is the officer's mobile here

SPEECH = FIXTURES / "speech"
CATALOG = FIXTURES / "ivr" / "intents"


class Network:
    def __init__(self, lab, hotline, factory):
        self.carrier, self.handle, self.settings = lab.carrier, lab.handle, lab.settings
        self.hotline, self.factory = hotline, factory

    def calls(self) -> int:
        with self.factory() as s:
            return s.scalar(select(func.count()).select_from(Call)) or 0

    def last_call(self, timeout: float = 15.0) -> Call:
        deadline = time.monotonic() + timeout
        while True:
            with self.factory() as s:
                row = s.scalars(select(Call).order_by(Call.id.desc()).limit(1)).first()
                if row is not None and row.ended_at is not None:
                    _ = row.turns
                    return row
            assert time.monotonic() < deadline, "call never closed in the log"
            time.sleep(0.1)

    def direct(self, extension: str, **kw) -> CallTarget:
        """A SIP client talking to the hotline's Asterisk itself (a gateway, or an intruder)."""
        return CallTarget(host=self.handle.sip_host, port=self.handle.sip_port, extension=extension, **kw)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    app_start, app_end = free_rtp_range(100)
    env = {
        "HOTLINE_IVR__FLOW__TRANSFER_TIMEOUT_SECONDS": "15",
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",
        "HOTLINE_IVR__FLOW__RATING": "false",
        "HOTLINE_IVR__FLOW__NO_INPUT_SECONDS": "6",
        "HOTLINE_INTENTS__CATALOG_DIR": str(CATALOG),
        "HOTLINE_IVR__MEDIA__PORT_START": str(app_start),
        "HOTLINE_IVR__MEDIA__PORT_END": str(app_end),
        "HOTLINE_IVR__PROMPTS_DIR": str(tmp_path_factory.mktemp("trunk-prompts")),
    }
    env |= {
        # Nobody registers as the operator seat: transfers reach the officer only through the duty
        # rota, which names the officer at every hour of every day (so the test holds at any time).
        "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": "PJSIP/operator",
        "HOTLINE_IVR__DUTY": json.dumps(
            {
                "rota": [
                    {
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],
                        "hours": "00:00-24:00",
                        "ring": [OFFICER],
                    },
                ]
            }
        ),  # fmt: skip
        "HOTLINE_IVR__COMMUNE_TEAMS": json.dumps([{"commune": int(ANH_SON), "ring": [OFFICER]}]),
    }
    data = tmp_path_factory.mktemp("trunks")
    with trunk_lab(data, (free_rtp_range(), free_rtp_range()), env) as lab:
        hotline = RunningHotline(lab.settings)
        try:
            hotline.start()
            yield Network(lab, hotline, session_factory(engine_for(lab.settings)))
        finally:
            hotline.stop()


@pytest.fixture
def clean(network):
    yield
    network.hotline.wait_idle()


def greeted() -> CallScript:
    return CallScript().wait_for_audio(timeout=15).wait_for_silence(1.0, timeout=40)


def answered() -> CallScript:
    """The greeting has started: the call is in the application and in its log, with its caller."""
    return CallScript().wait_for_audio(timeout=15).wait(1.0)


def test_hotline_registers_at_the_carrier_and_status_shows_each_trunk(network):
    status = {s.name: s for s in trunk_status(network.handle, network.settings.ivr.asterisk.trunks)}
    assert status["vnpt"].registration == "Registered", status
    assert status["viettel"].registration == "-" and status["goip-xa"].registration == "-"
    assert all(s.calls == 0 for s in status.values())
    # The carrier agrees: our contact is bound to the hotline's account there.
    assert HOTLINE_USER in network.carrier.cli("pjsip show contacts")


def _formats_during_call(handle, deadline_s: float = 20.0) -> dict[str, str]:
    """The native format of each channel on the hotline's Asterisk, sampled while a call is up."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        channels = handle.channels()
        if len(channels) >= 2:  # the caller's leg and the application's media leg
            out = {}
            for ch in channels:
                resp = handle.ari("GET", f"/channels/{ch['id']}/variable?variable=CHANNEL(audionativeformat)")
                out[ch["name"]] = resp.get("value", "")
            return out
        time.sleep(0.2)
    return {}


def test_citizen_on_an_alaw_carrier_is_recognized_and_logged_in_national_form(network, clean, tmp_path):
    rendered = network.hotline.app.s.prompts.text_path("Đây là câu trả lời về huấn luyện viên.")
    deadline = time.monotonic() + 60
    while not rendered.is_file():  # the answers are rendered in the background at start-up
        assert time.monotonic() < deadline, f"{rendered} was never rendered"
        time.sleep(0.1)
    answer = read_audio(rendered)
    script = (
        greeted()
        .play(SPEECH / "binh_north_male.wav")
        .wait_for_audio(timeout=10)
        .wait(answer.duration_s + 1.0)  # the whole answer, not the question after it
        .hangup()
    )
    target = network.carrier.target(CITIZEN, REGISTER_DID)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(call, target, script, record=tmp_path / "heard.wav", timeout=120)
        formats = _formats_during_call(network.handle)
        result = future.result(timeout=150)
    assert result.connected, result.summary()
    # A-law end to end: the trunk leg and the application's media leg both, so nothing is transcoded.
    assert formats and all("alaw" in f for f in formats.values()), formats
    assert any(name.startswith("PJSIP/trunk-vnpt-") for name in formats), formats
    c = network.last_call()
    speech = [t for t in c.turns if t.kind == "speech"]
    assert speech and speech[0].intent == "coach", [(t.kind, t.transcript, t.intent) for t in c.turns]
    assert result.latencies and result.latencies[0] < 3.0, result.summary()
    # The carrier presented +84912345678; the log keeps the national form, masked for display.
    assert c.caller == CITIZEN, c.caller
    assert c.caller_masked != CITIZEN and c.caller_masked.endswith(CITIZEN[-3:]), c.caller_masked
    assert c.outcome == "answered_speech"


def test_a_withheld_number_stays_withheld(network, clean, tmp_path):
    result = call(network.carrier.target(CITIZEN, "*31" + REGISTER_DID), answered().hangup(), timeout=60)
    assert result.connected, result.summary()
    c = network.last_call()
    assert c.caller == "" and c.caller_masked == "" and c.caller_hash == "", c.caller


def test_ip_trunk_takes_calls_up_to_its_limit_then_says_lines_are_busy(network, clean, tmp_path):
    first_script = answered().wait(8).hangup()  # up until the second call has been refused
    busy_script = CallScript().wait_for_audio(timeout=10).wait_for_silence(1.0, timeout=20).wait(2).hangup()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(
            call, network.carrier.target(CITIZEN, IP_DID), first_script, record=tmp_path / "a.wav", timeout=90
        )
        time.sleep(4.0)  # the first call is up and greeted
        busy = pool.submit(
            call, network.carrier.target(STRANGER, IP_DID), busy_script, record=tmp_path / "b.wav", timeout=60
        )
        first_result, busy_result = first.result(timeout=120), busy.result(timeout=90)
    assert first_result.connected, first_result.summary()
    # Over the limit: never answered, but the caller heard the recorded "all lines are busy".
    assert not busy_result.connected and busy_result.status_code in (486, 503, 480, 603), busy_result
    heard = audible_between(tmp_path / "b.wav", 0.0, 30.0)
    assert heard >= 2.0, f"only {heard:.1f} s of the busy message"
    c = network.last_call()
    assert c.caller == CITIZEN  # carriers that present 84912345678 are normalized too
    assert "hotline-busy: trunk viettel" in network.handle.log_file.read_text(errors="replace")


def test_gsm_gateways_reach_the_hotline_with_the_mobile_number(network, clean, tmp_path):
    secrets = network.handle.secrets.trunk_passwords
    # A gateway known by its SIP user; the mobile number travels as the display name.
    by_user = network.direct(
        GATEWAY_DID, user="goip-xa", display=CITIZEN, password=secrets["goip-xa"], codec="alaw"
    )
    result = call(by_user, answered().hangup(), record=tmp_path / "a.wav", timeout=60)
    assert result.connected, result.summary()
    assert network.last_call().caller == CITIZEN
    # A gateway known by its address sends the mobile number as the From user.
    by_address = network.direct(
        GATEWAY2_DID, user=CITIZEN, auth_user="goip-xb", password=secrets["goip-xb"],
        source=GATEWAY2_ADDRESS,
    )  # fmt: skip
    result = call(by_address, answered().hangup(), record=tmp_path / "b.wav", timeout=60)
    assert result.connected, result.summary()
    assert network.last_call().caller == CITIZEN
    # The same credentials from another address are refused: the gateway's address is part of its identity.
    before = network.calls()
    result = call(replace(by_address, source=""), CallScript().wait(1).hangup(), timeout=40)
    assert not result.connected and result.status_code >= 400, result.summary()
    assert network.calls() == before
    # A gateway can register as its user, like a GoIP does.
    reg = call(
        network.direct(GATEWAY_DID, user="goip-xa", password=secrets["goip-xa"], register=True, codec="alaw"),
        CallScript().wait_for_audio(timeout=15).hangup(),
        timeout=60,
    )
    assert reg.connected, reg.summary()


def test_what_is_not_a_hotline_number_or_a_known_source_is_refused(network, clean, tmp_path):
    before = network.calls()
    attempts = {
        # An INVITE from an address no trunk matches, without credentials.
        "stranger address": network.direct(REGISTER_DID, user=CITIZEN, source="127.0.0.5"),
        # A number of the carrier's range that is not one of the hotline's numbers.
        "unknown number": network.carrier.target(CITIZEN, REGISTER_DID[:-3] + "000"),
        # A gateway caller trying to reach an outside number through the hotline.
        "outside via gateway": network.direct(
            OFFICER,
            user="goip-xa",
            display=CITIZEN,
            password=network.handle.secrets.trunk_passwords["goip-xa"],
            codec="alaw",
        ),
        # The hotline's own test phone trying to dial out.
        "outside via phone": network.direct(
            OFFICER, user="caller", password=network.handle.secrets.caller_password
        ),
    }
    for what, target in attempts.items():
        result = call(target, CallScript().wait(1).hangup(), timeout=40)
        assert not result.connected, (what, result.summary())
        assert result.status_code >= 400, (what, result.status_code, result.reason)
    assert network.calls() == before
    # Nothing left the hotline towards the carrier (the carrier saw no call from it).
    assert "from-hotline" not in network.carrier.cli("core show channels concise")


def test_transfer_rings_the_officers_mobile_through_the_carrier(network, clean, tmp_path):
    officer_says = SPEECH / "vinh_south_male.wav"
    officer = AgentProcess.registered_at(
        network.carrier.target(OFFICER, ""),
        play=str(officer_says),
        record=str(tmp_path / "officer.wav"),
        calls=1,
        timeout=150,
        ring_s=5.0,
    )
    try:
        officer.next("registered", timeout=30)
        script = (
            CallScript()
            .wait_for_audio(timeout=15)
            .wait(0.3)
            .dtmf("0")
            .wait_for_audio(timeout=10)  # "please hold"
            .wait_for_silence(0.8, timeout=30)
            .wait_for_audio(timeout=20)  # the officer speaks
            .wait_for_silence(1.0, timeout=30)
            .wait(1.0)
            .hangup()
        )
        rec = tmp_path / "heard.wav"
        result = call(network.carrier.target(CITIZEN, REGISTER_DID), script, record=rec, timeout=150)
        answered = officer.next("answered", timeout=10)
        op = officer.next("call", timeout=20)
    finally:
        officer.close()
    assert result.connected, result.summary()
    # The officer sees the citizen's number, so they can call back.
    assert CITIZEN in answered["remote"], answered
    assert not op["error"] and op["heard_s"] >= 0, op
    c = network.last_call()
    assert c.outcome == "transferred", [t.action for t in c.turns]
    # The ringing tone while the mobile rang; then the officer's voice.
    answered_s = op["answered_at"] - result.recording_started_at
    dtmf_at = next(e["t"] for e in result.events if e["kind"] == "dtmf")
    assert tone_between(rec, dtmf_at, answered_s, RINGBACK_HZ) >= 0.8, result.summary()
    heard_from = op["recording_started_at"] + op["played_at_s"] - result.recording_started_at
    spoken = read_audio(officer_says).duration_s
    assert audible_between(rec, heard_from, heard_from + spoken + 0.5) >= 0.5 * spoken


def test_a_communes_team_rings_through_the_carrier_and_no_answer_leaves_a_call_back_for_it(
    network, clean, tmp_path
):
    # The team's phone (the officer's mobile) rings and nobody picks up; the citizen hangs up while the
    # offer to leave a message is spoken: a call-back ticket for the commune, with the citizen's number.
    mobile = network.carrier.target(OFFICER, "")
    officer = AgentProcess.registered_at(mobile, calls=1, timeout=150, ring_s=90.0)
    try:
        officer.next("registered", timeout=30)
        script = (
            CallScript()
            .wait_for_audio(timeout=15)
            .wait(0.3)
            .dtmf("7")  # the commune's digital technology team
            .wait(0.5)
            .wait_for_audio(timeout=10)  # "which commune?": a key interrupts it
            .wait(0.5)
            .dtmf(ANH_SON + "#")
            .wait_for_audio(timeout=15)  # "putting you through to xã Anh Sơn's team"
            .wait_for_silence(0.8, timeout=30)
            .wait(14.5)  # 15 s of ringing: the offer to leave a message starts
            .wait(2.5)
            .hangup()
        )
        rec = tmp_path / "heard.wav"
        result = call(network.carrier.target(CITIZEN, REGISTER_DID), script, record=rec, timeout=150)
        rang = officer.next("call", timeout=30)
    finally:
        officer.close()
    assert result.connected and result.hangup_by == "caller", result.summary()
    assert not rang.get("answered_at"), rang  # the team's mobile rang through the carrier, unanswered
    c = network.last_call()
    actions = [t.action for t in c.turns]
    assert ["team", "team_found", "transfer_no_answer"] == [
        a for a in actions if a in ("team", "team_found", "transfer_no_answer")
    ], actions
    assert c.outcome == "transfer_missed", actions
    end_s = read_audio(rec).duration_s
    assert tone_between(rec, end_s - 1.5, end_s, RINGBACK_HZ) < 0.2, result.summary()
    with network.factory() as s:
        t = s.scalars(select(Ticket).where(Ticket.call_id == c.id)).one()
    assert (t.reason, t.commune, t.caller, t.audio_path) == ("callback", ANH_SON, CITIZEN, None)
