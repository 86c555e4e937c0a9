"""The real SIP caller: latency measurement on known audio, then real calls into the real Asterisk."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys

import httpx
import numpy as np
import pytest
import websockets

from sip.caller import acall
from sip.measure import answer_latency, audible_seconds, first_audio_after, last_audio_end
from sip.script import CallerError, CallResult, CallScript
from tests.support import sine
from voice.audio import AudioChunk, read_audio

from .conftest import ROOT
from .test_asterisk import _sockets_of

SPEECH = ROOT / "tests" / "fixtures" / "speech"
STOCK = "sound:/usr/share/asterisk/sounds/en_US_f_Allison/"

# --- measurement on synthetic audio ---------------------------------------------------------------


def _tone(seconds: float, rate: int = 8000, amp: float = 0.3) -> np.ndarray:
    return (sine(seconds, rate, amp=amp) * 32767).astype(np.int16)


def _quiet(seconds: float, rate: int = 8000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def test_latency_is_measured_from_the_end_of_speech_to_the_first_answer_audio():
    # caller speech 0.5-1.5 s (a tone stands in for it), answer starts at 2.2 s
    audio = np.concatenate([_quiet(0.5), _tone(1.0), _quiet(0.7), _tone(0.8), _quiet(0.3)])
    chunk = AudioChunk.from_array(audio, 8000)
    assert first_audio_after(chunk) == pytest.approx(0.5, abs=0.02)
    assert first_audio_after(chunk, 1.5) == pytest.approx(2.2, abs=0.02)
    assert answer_latency(chunk, 1.5) == pytest.approx(0.7, abs=0.02)
    assert last_audio_end(chunk) == pytest.approx(3.0, abs=0.02)
    assert audible_seconds(chunk) == pytest.approx(1.8, abs=0.05)
    assert answer_latency(AudioChunk.from_array(_quiet(2.0), 8000), 0.5) is None  # dead air: no answer


def test_clicks_and_line_noise_are_not_an_answer():
    rng = np.random.default_rng(1)
    noise = (rng.normal(0, 30, 16000)).astype(np.int16)  # about -60 dBFS hiss
    noise[8000:8080] = 12000  # a 10 ms click
    chunk = AudioChunk.from_array(noise, 8000)
    assert first_audio_after(chunk) is None


def test_call_script_round_trips_and_rejects_bad_keys(tmp_path):
    script = CallScript().echo(-12).wait_for_audio(5).wait_for_silence(0.6).play(tmp_path / "a.wav")
    script.dtmf("12#").wait(1).hangup()
    again = CallScript.from_list(json.loads(json.dumps(script.to_list())))
    assert again == script and again.steps[0].level_db == -12
    assert [s.kind for s in again.steps] == [
        "echo",
        "wait_for_audio",
        "wait_for_silence",
        "play",
        "dtmf",
        "wait",
        "hangup",
    ]
    with pytest.raises(CallerError):
        CallScript().dtmf("1x")
    with pytest.raises(CallerError):
        CallScript().echo(3)  # an echo louder than what was heard
    simple = CallScript.simple(audio=[tmp_path / "a.wav"], dtmf=["0"], wait=2)
    assert [s.kind for s in simple.steps][-2:] == ["wait", "hangup"]


def test_result_round_trips():
    result = CallResult(connected=True, sip_call_id="abc", played=[{"file": "x.wav", "latency_s": 0.5}])
    assert CallResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert result.latencies == [0.5]


def test_missing_audio_file_is_a_clear_error(tmp_path):
    from sip.caller import run_call
    from sip.script import CallTarget

    target = CallTarget(host="127.0.0.1", port=9, extension="1")
    result = run_call(target, CallScript().play(tmp_path / "nope.wav"), timeout=5)
    assert not result.connected and "nope.wav" in result.error


# --- a tiny ARI application for the tests ------------------------------------------------------------


class MiniApp:
    """Answers, greets, then plays an answer after the caller stops talking or keys digits; hangs up."""

    def __init__(self, asterisk, *, digits_needed: int = 0, talk_detect: bool = False) -> None:
        self.ast = asterisk
        self.digits_needed = digits_needed
        self.talk_detect = talk_detect
        self.started: list[dict] = []
        self.digits = ""
        self.start_args: list[list[str]] = []
        self.finished: list[dict] = []
        self.rtp_sockets: list[tuple] = []
        self.sockets_before: set[tuple] = set()
        self.ready = asyncio.Event()
        self.answered_after_talk = False

    async def run(self, limit_s: float = 60.0) -> None:
        async with (
            websockets.connect(self.ast.events_url(self.ast.app_name)) as ws,
            httpx.AsyncClient(base_url=self.ast.rest_url, auth=self.ast.auth, timeout=5) as http,
        ):
            # Asterisk's resolver keeps UDP sockets on 0.0.0.0/[::] at random ports from its start, which
            # may fall in the RTP range: only sockets that appear with the call are the call's.
            self.sockets_before = set(_sockets_of(self.ast.handle.pid))
            self.ready.set()
            async with asyncio.timeout(limit_s):
                async for raw in ws:
                    event = json.loads(raw)
                    if await self._on(event, http):
                        return

    async def _play(self, http: httpx.AsyncClient, channel: str, media: str) -> None:
        resp = await http.post(f"/channels/{channel}/play", params={"media": media})
        resp.raise_for_status()

    async def _on(self, event: dict, http: httpx.AsyncClient) -> bool:
        kind = event["type"]
        channel = event.get("channel", {}).get("id")
        if kind == "StasisStart":
            self.started.append(event["channel"])
            self.start_args.append(event.get("args", []))
            (await http.post(f"/channels/{channel}/answer")).raise_for_status()
            cfg = self.ast.settings.ivr.asterisk
            self.rtp_sockets = [
                s
                for s in _sockets_of(self.ast.handle.pid)
                if s[0].startswith("udp")
                and cfg.rtp_port_start <= s[2] <= cfg.rtp_port_end
                and s not in self.sockets_before
            ]
            if self.talk_detect:
                # ChannelTalkingFinished after 600 ms of silence from the caller
                (
                    await http.post(
                        f"/channels/{channel}/variable",
                        params={"variable": "TALK_DETECT(set)", "value": "600"},
                    )
                ).raise_for_status()
            if self.digits_needed == 0:
                await self._play(http, channel, STOCK + "hello-world")
        elif kind == "ChannelDtmfReceived":
            self.digits += event["digit"]
            if len(self.digits) == self.digits_needed:
                await self._play(http, channel, STOCK + "demo-thanks")
        elif kind == "ChannelTalkingFinished" and self.talk_detect and not self.answered_after_talk:
            self.answered_after_talk = True
            await self._play(http, channel, STOCK + "demo-thanks")
        elif kind == "PlaybackFinished":
            self.finished.append(event["playback"])
            target = event["playback"]["target_uri"].split(":", 1)[1]
            last = event["playback"]["media_uri"].endswith("demo-thanks") or (
                self.digits_needed == 0 and not self.talk_detect
            )
            if last:
                await http.delete(f"/channels/{target}")
        elif kind == "StasisEnd":
            return True
        return False


async def _call_with_app(asterisk, app: MiniApp, script: CallScript, record) -> CallResult:
    task = asyncio.create_task(app.run())
    await asyncio.wait_for(app.ready.wait(), 10)
    await asyncio.sleep(0.2)  # the application is registered once the WebSocket is up
    result = await acall(asterisk.target(), script, record=record, timeout=60)
    await asyncio.wait_for(task, 10)
    return result


@pytest.mark.asterisk
async def test_call_reaches_the_stasis_app_and_hears_it(asterisk, tmp_path):
    app = MiniApp(asterisk)
    script = CallScript().wait(15)  # the application hangs up after its prompt
    result = await _call_with_app(asterisk, app, script, tmp_path / "heard.wav")
    assert result.connected, result.error
    assert result.hangup_by == "remote"
    assert len(app.started) == 1
    channel = app.started[0]
    assert channel["channelvars"]["SIP_CALL_ID"] == result.sip_call_id
    assert result.channel_id == channel["id"]
    assert [p["state"] for p in app.finished] == ["done"]
    heard = read_audio(result.recording)
    assert heard.rate == 8000
    assert audible_seconds(heard) > 0.8  # "hello world" is ~1.4 s of speech
    # media stayed on loopback: the call's RTP socket was bound to 127.0.0.1
    assert app.rtp_sockets and all(s[1] == "127.0.0.1" for s in app.rtp_sockets), app.rtp_sockets
    asterisk.wait_clean()


@pytest.mark.asterisk
async def test_dtmf_reaches_the_app(asterisk, tmp_path):
    app = MiniApp(asterisk, digits_needed=2)
    script = CallScript().wait(1.0).dtmf("42").wait(20)
    result = await _call_with_app(asterisk, app, script, tmp_path / "heard.wav")
    assert result.connected, result.error
    assert app.digits == "42"
    dtmf_at = next(e["t"] for e in result.events if e["kind"] == "dtmf")
    answer_at = first_audio_after(result.recording, dtmf_at)
    assert answer_at is not None and answer_at - dtmf_at < 3.0
    assert result.hangup_by == "remote"
    asterisk.wait_clean()


@pytest.mark.asterisk
async def test_speech_then_answer_latency_is_measured(asterisk, tmp_path):
    app = MiniApp(asterisk, talk_detect=True)
    clip = SPEECH / "binh_north_male.wav"
    script = CallScript().wait_for_audio(10).wait_for_silence(0.6, 10).play(clip).wait(20)
    result = await _call_with_app(asterisk, app, script, tmp_path / "heard.wav")
    assert result.connected, result.error
    assert app.answered_after_talk, "Asterisk did not notice the caller talking"
    [played] = result.played
    assert played["finished_s"] - played["started_s"] == pytest.approx(2.65, abs=0.3)
    assert played["started_s"] < played["speech_end_s"] <= played["finished_s"] + 0.05
    # 600 ms of silence detection, then the answer: the measured gap must reflect that, not 0 or minutes
    assert played["latency_s"] is not None and 0.5 <= played["latency_s"] <= 2.5, played
    assert result.hangup_by == "remote"
    asterisk.wait_clean()


@pytest.mark.asterisk
def test_without_app_the_caller_hears_the_apology_and_may_leave_a_message(asterisk, tmp_path):
    """`hotline call --json` as a subprocess; no application is connected, so the dialplan falls back."""
    record = tmp_path / "heard.wav"
    env = {**os.environ, **asterisk.env}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotline",
            "call",
            "--json",
            "--wait",
            "4",
            "--record",
            str(record),
            "--audio",
            str(SPEECH / "binh_north_male.wav"),
            *("--log-wait", "0"),  # no application: the call never reaches a call log
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["connected"] and out["sip_call_id"] and out["channel_id"]
    assert out["recording"] == str(record)
    heard = read_audio(record)
    assert audible_seconds(heard) > 3.0  # the Vietnamese apology (and the message prompt)
    assert first_audio_after(heard) < 1.5  # the apology starts at once: no dead air
    log = asterisk.log_text()
    assert f"STASISSTATUS=FAILED channel={out['channel_id']} call-id={out['sip_call_id']}" in log
    assert f"operator DIALSTATUS=CHANUNAVAIL channel={out['channel_id']}" in log
    asterisk.wait_clean()


@pytest.mark.asterisk
async def test_prompt_extension_reaches_the_app_from_an_operator_seat_only(asterisk, tmp_path):
    """Seats have the operators' context, where the prompt extension is; the application asks for the PIN
    (so it can count wrong ones across calls): the dialplan goes straight to Stasis."""
    from dataclasses import replace

    prompt_line = asterisk.target(to=asterisk.handle.prompt_extension)
    refused = await acall(prompt_line, CallScript().wait(2), timeout=30)
    assert not refused.connected  # the callers' context has no such extension
    app = MiniApp(asterisk)
    script = CallScript().wait(20)
    task = asyncio.create_task(app.run())
    await asyncio.wait_for(app.ready.wait(), 10)
    await asyncio.sleep(0.2)
    seat = replace(prompt_line, user="operator2", password=asterisk.handle.secrets.seat_password(2))
    result = await acall(seat, script, record=tmp_path / "heard.wav", timeout=60)
    await asyncio.wait_for(task, 10)
    assert result.connected, result.error
    assert app.start_args == [["prompt-admin"]]
    assert app.started[0]["name"].startswith("PJSIP/operator2-")  # what the application checks the seat by
    assert result.hangup_by == "remote"
    asterisk.wait_clean()


def test_unreachable_asterisk_is_reported_quickly():
    from sip.caller import call
    from sip.script import CallTarget

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # a port nobody answers on (kept bound, so it stays that way)
        result = call(
            CallTarget(host="127.0.0.1", port=port, extension="1080"), CallScript().wait(1), timeout=30
        )
    assert not result.connected
    assert "no SIP response" in result.error


def test_a_caller_started_ahead_and_never_used_is_stopped():
    from sip.caller import ReadyCaller

    ready = ReadyCaller()
    ready.wait_ready()
    os.kill(ready.pid, 0)  # alive, waiting for its call
    ready.close()
    with pytest.raises(ProcessLookupError):
        os.kill(ready.pid, 0)
    assert ready.close() == ""  # twice is harmless


@pytest.mark.asterisk
async def test_simultaneous_callers_each_get_their_own_call(asterisk, tmp_path):
    """Several caller processes at once (as the benchmark runs them, one started ahead of its call):
    distinct calls, each hears audio."""
    from sip.caller import ReadyCaller

    script = CallScript().wait_for_audio(10).wait(2).hangup()
    ready = ReadyCaller()
    await asyncio.to_thread(ready.wait_ready)
    results = await asyncio.gather(
        *(acall(asterisk.target(), script, record=tmp_path / f"heard{i}.wav", timeout=30) for i in range(2)),
        asyncio.to_thread(ready.call, asterisk.target(), script, tmp_path / "heard2.wav", 30),
    )
    assert all(r.connected for r in results), [r.error for r in results]
    assert len({r.sip_call_id for r in results}) == 3
    assert len({r.channel_id for r in results}) == 3 and all(r.channel_id for r in results)
    assert all(r.events[0]["heard"] for r in results)
    assert all(audible_seconds(r.recording) > 1.0 for r in results)
    asterisk.wait_clean()
