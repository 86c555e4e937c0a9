"""Bad input: what malformed, hostile or endless input costs the hotline (it must lose nothing).

One real Asterisk (free loopback ports, throwaway data directory), the hotline application in this
process and the real web app under uvicorn. Per category: what was sent, how it ended, what was lost.

(a) malformed SIP datagrams and TCP messages at the SIP ports, then sipvicious scans; Asterisk must still
    answer a real call and the hotline greet it;
(b) malformed RTP at the call's media port and across Asterisk's RTP range during a call;
(c) a key flood during a call: the call goes on, the call log stays bounded;
(d) a caller silent for the whole call: re-prompts, then goodbye and hang-up; the silences heard;
(e) a two-hour call attempt with the call limit lowered by configuration: ended politely at the limit;
(f) malformed ARI events through the application's own ARI client and event handler;
(g) oversized and non-audio uploads to the console prompt upload and the radio bulletin upload;
(h) hostile YAML: intent files dropped into the running catalog, a bulletin's front matter, and intent
    edits through the console form.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench.ivr import ROOT, _App, question_script

CATALOG = ROOT / "tests" / "fixtures" / "ivr" / "intents"
MAX_CALL_MINUTES = 1.5  # the call limit for this run (the shipped default is 30)
TWO_HOURS_S = 2 * 3600.0
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


def _vm(field: str, pid: str = "self") -> int:
    """A /proc status field in kB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class _Errors(logging.Handler):
    """Counts ERROR records (exceptions included) logged by the product while a category runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("ivr", "intents", "console", "web", "broadcast", "voice", "core"):
            self.records.append(f"{record.name}: {record.getMessage()[:160]}")

    def take(self) -> list[str]:
        out, self.records = self.records, []
        return out


def _frames_db(path: Path) -> tuple[np.ndarray, float]:
    from voice.audio import read_audio

    chunk = read_audio(path)
    x = chunk.array().astype(np.float64) / 32768.0
    n = chunk.rate // 50
    frames = x[: x.size - x.size % n].reshape(-1, n)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12), 0.02


def _silences(path: Path, threshold_db: float = -40.0) -> list[tuple[float, float]]:
    """(start_s, length_s) of every quiet stretch between the first and the last audible frame."""
    db, step = _frames_db(path)
    loud = np.flatnonzero(db > threshold_db)
    if loud.size == 0:
        return []
    gaps = []
    prev = loud[0]
    for i in loud[1:]:
        if i - prev > 1:
            gaps.append((round(float(prev + 1) * step, 2), round(float(i - prev - 1) * step, 2)))
        prev = i
    return gaps


def _audible_s(path: Path) -> float:
    db, step = _frames_db(path)
    return round(float(np.sum(db > -40.0)) * step, 2)


# --- (a) malformed SIP ------------------------------------------------------------------------------


def _sip_inputs(host: str, port: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """(kind, bytes) of hand-crafted malformed SIP messages."""

    def msg(first: str, headers: list[str], body: bytes = b"") -> bytes:
        return (first + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body

    uri = f"sip:1080@{host}:{port}"

    def base(branch: int) -> list[str]:
        return [
            f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{branch}",
            "Max-Forwards: 70",
            f"From: <sip:x@{host}>;tag={branch}",
            f"To: <{uri}>",
            f"Call-ID: bad-{branch}@x",
            "CSeq: 1 INVITE",
        ]

    out: list[tuple[str, bytes]] = []
    sdp = (
        b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    )
    for i in range(30):
        h = base(i)
        out += [
            ("missing_via", msg(f"INVITE {uri} SIP/2.0", h[1:] + ["Content-Length: 0"])),
            ("huge_content_length", msg(f"INVITE {uri} SIP/2.0", h + ["Content-Length: 4294967295"], sdp)),
            ("negative_content_length", msg(f"OPTIONS {uri} SIP/2.0", h + ["Content-Length: -5"])),
            (
                "short_body",
                msg(
                    f"INVITE {uri} SIP/2.0",
                    h + ["Content-Type: application/sdp", f"Content-Length: {len(sdp) + 500}"],
                    sdp,
                ),
            ),
            ("bad_request_line", msg(f"INV ITE {uri} SIP/3.0 extra", h + ["Content-Length: 0"])),
            (
                "bad_cseq",
                msg(f"OPTIONS {uri} SIP/2.0", base(i)[:-1] + ["CSeq: x OPTIONS", "Content-Length: 0"]),
            ),
            ("header_without_colon", msg(f"OPTIONS {uri} SIP/2.0", h + ["NoColonHere", "Content-Length: 0"])),
            ("truncated", msg(f"INVITE {uri} SIP/2.0", h + ["Content-Length: 0"])[: rng.randrange(10, 120)]),
            ("binary_garbage", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1400)))),
            (
                "bad_sdp",
                msg(
                    f"INVITE {uri} SIP/2.0",
                    h + ["Content-Type: application/sdp", "Content-Length: 40"],
                    b"v=9\r\nm=audio x RTP\r\n\0\0\0garbage",
                ),
            ),
        ]
    for i in range(20):  # oversized: 64 KB datagrams (the UDP maximum) and a header of 60,000 characters
        h = base(1000 + i)
        out.append(
            (
                "oversized_64k",
                (msg(f"OPTIONS {uri} SIP/2.0", h + ["X-Pad: " + "a" * 65000, "Content-Length: 0"]))[:65507],
            )
        )
        out.append(
            (
                "many_vias",
                msg(
                    f"OPTIONS {uri} SIP/2.0",
                    [f"Via: SIP/2.0/UDP 10.0.0.{j % 250}:5060;branch=z9hG4bK{i}{j}" for j in range(600)]
                    + h[1:]
                    + ["Content-Length: 0"],
                )[:65507],
            )
        )
    for i in range(20):  # responses nobody asked for, and an empty datagram
        out.append(("stray_response", msg("SIP/2.0 200 OK", base(2000 + i) + ["Content-Length: 0"])))
    out.append(("empty", b""))
    return out


def _malformed_sip(handle, tcp_port: int) -> dict:
    rng = random.Random(7)
    host, port = handle.sip_host, handle.sip_port
    inputs = _sip_inputs(host, port, rng)
    by_kind: dict[str, dict[str, int]] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.05)
        for kind, data in inputs:
            row = by_kind.setdefault(kind, {"sent": 0, "answered": 0})
            row["sent"] += 1
            try:
                sock.sendto(data, (host, port))
            except OSError:
                row.setdefault("send_refused", 0)
                row["send_refused"] += 1
                continue
            try:
                while True:
                    sock.recv(65535)
                    row["answered"] += 1
            except (TimeoutError, OSError):
                pass
    tcp = {"sent": 0, "closed_by_asterisk": 0, "answered": 0}
    tcp_inputs = [d for _, d in inputs[:: max(1, len(inputs) // 40)]] + [
        b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n" + b"z" * 200_000,
        b"\x00" * 70_000,
    ]
    for data in tcp_inputs:
        tcp["sent"] += 1
        try:
            with socket.create_connection((host, tcp_port), timeout=2) as s:
                s.settimeout(0.3)
                try:
                    s.sendall(data)
                    got = s.recv(65535)
                    tcp["answered" if got else "closed_by_asterisk"] += 1
                except TimeoutError:
                    pass
                except OSError:
                    tcp["closed_by_asterisk"] += 1
        except OSError as exc:
            tcp.setdefault("connect_failed", 0)
            tcp["connect_failed"] += 1
            tcp["connect_error"] = str(exc)
    scans = {}
    for tool, args in (
        ("svmap", ["-p", str(port), f"{host}"]),
        ("svwar", ["--force", "-m", "INVITE", "-e", "100-300", "-p", str(port), host]),
        ("svwar_options", ["--force", "-m", "OPTIONS", "-e", "1000-1100", "-p", str(port), host]),
    ):
        module = "svwar" if tool.startswith("svwar") else tool
        started = time.monotonic()
        try:
            bounded = [] if module == "svmap" else ["--maximumtime", "5"]
            run = subprocess.run(
                [sys.executable, "-m", f"sipvicious.{module}", *args, *bounded],
                capture_output=True,
                text=True,
                timeout=60,
            )
            said = (run.stdout + run.stderr).strip().splitlines()
            scans[tool] = {
                "exit": run.returncode,
                "seconds": round(time.monotonic() - started, 1),
                "last_line": said[-1][:160] if said else "",
            }
        except (subprocess.TimeoutExpired, OSError) as exc:
            scans[tool] = {"error": str(exc)[:160]}
    return {
        "udp_datagrams": len(inputs),
        "udp_by_kind": by_kind,
        "tcp": tcp,
        "sipvicious": scans,
        "asterisk_pid_unchanged": None,
    }


# --- the calls ---------------------------------------------------------------------------------------


def _place(target, script, rec: Path, timeout: float):
    from sip.caller import call

    return call(target, script, record=rec, timeout=timeout)


def _call_row(factory, channel_id: str, timeout: float = 20.0):
    from sqlalchemy import select

    from ivr.models import Call

    deadline = time.monotonic() + timeout
    while True:
        with factory() as s:
            row = s.scalars(select(Call).where(Call.channel_id == channel_id)).first()
            if row is not None:
                turns = [(t.kind, t.dtmf, t.intent, t.action) for t in row.turns]
                if row.ended_at is not None or time.monotonic() > deadline:
                    return row, turns
        if time.monotonic() > deadline:
            return None, []
        time.sleep(0.2)


def _greeted_call(target, tmp: Path, name: str, factory) -> dict:
    """A real call after the abuse: greeted, says a question, gets the answer."""

    script = question_script()
    rec = tmp / f"{name}.wav"
    r = _place(target, script, rec, 120)
    row, turns = _call_row(factory, r.channel_id) if r.channel_id else (None, [])
    return {
        "connected": r.connected,
        "greeted_and_answered": bool(r.latencies),
        "answer_latency_s": r.latencies[0] if r.latencies else None,
        "intent": next((t[2] for t in turns if t[0] == "speech"), None),
        "error": r.error,
    }


def _wait_session(app, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for s in list(app.app.sessions.values()):
            if s.media is not None:
                return s
        time.sleep(0.05)
    return None


def _malformed_rtp(app, handle, target, tmp: Path, factory, asterisk_rtp: tuple[int, int]) -> dict:
    from ivr.rtp import build_rtp
    from sip.script import CallScript

    script = (
        CallScript()
        .wait_for_audio(timeout=20)
        .wait(6.0)
        .dtmf("1")
        .wait_for_audio(timeout=15)
        .wait_for_silence(1.0, timeout=60)
        .hangup()
    )
    box: dict = {}
    t = threading.Thread(target=lambda: box.update(r=_place(target, script, tmp / "rtp.wav", 120)))
    t.start()
    session = _wait_session(app)
    sent = {"to_app_media_port": 0, "to_asterisk_rtp_range": 0}
    rng = random.Random(3)
    if session is not None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for i in range(600):
                kind = i % 4
                if kind == 0:
                    data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1500)))
                elif kind == 1:  # well-formed RTP from a stranger, a codec nobody offered
                    data = build_rtp(
                        b"\x55" * 160,
                        payload_type=rng.choice((8, 9, 18, 96, 127)),
                        seq=i,
                        timestamp=i * 160,
                        ssrc=rng.randrange(1 << 32),
                    )
                elif (
                    kind == 2
                ):  # an RTP header that lies: version 1, CSRC count 15, extension bit, no payload
                    data = bytes([0x5F | 0x10, 0x00]) + rng.randbytes(10)
                else:  # RTCP-looking and oversized
                    data = bytes([0x80, 200]) + rng.randbytes(rng.choice((2, 60000)))
                sock.sendto(data, ("127.0.0.1", session.media.port))
                sent["to_app_media_port"] += 1
                port = rng.randrange(asterisk_rtp[0], asterisk_rtp[1] + 1)
                sock.sendto(data[:1400], ("127.0.0.1", port))
                sent["to_asterisk_rtp_range"] += 1
                if i % 20 == 0:
                    time.sleep(0.02)
    t.join(180)
    r = box.get("r")
    stats = session.media.stats if session is not None else None
    row, turns = _call_row(factory, r.channel_id) if r is not None and r.channel_id else (None, [])
    return {
        "sent": sent,
        "app_counted_garbage": getattr(stats, "garbage", None),
        "app_counted_foreign": getattr(stats, "foreign", None),
        "call_went_on": bool(r and r.connected and any(k == "dtmf" and d == "1" for k, d, _, _ in turns)),
        "answer_heard_after_the_spray": bool(r and _audible_s(Path(r.recording)) > 8.0) if r else False,
        "turns": turns[:6],
    }


def _dtmf_flood(app, target, tmp: Path, factory, keys: int = 300) -> dict:
    from sip.script import CallScript

    rng = random.Random(5)
    # Keys that choose nothing (replay and confirm): digits would be menu choices, and one of them ends
    # the call politely, which is the hotline obeying, not surviving a flood.
    flood = "".join(rng.choice("*#") for _ in range(keys))
    script = CallScript().wait_for_audio(timeout=20).wait(1.0)
    for key in flood:  # one key per step: the caller's stack refuses long queued strings (PJ_ETOOMANY)
        script.dtmf(key).wait(0.05)
    script.wait(2.0).dtmf("*").wait_for_audio(timeout=15).wait(2.0).hangup()
    started = time.monotonic()
    r = _place(target, script, tmp / "flood.wav", 300)
    row, turns = _call_row(factory, r.channel_id) if r.channel_id else (None, [])
    dtmf_rows = [t for t in turns if t[1]]
    return {
        "keys_sent": keys,
        "call_seconds": round(time.monotonic() - started, 1),
        "connected": r.connected,
        "hung_up_by": r.hangup_by,
        "call_log_rows": len(turns),
        "keys_in_call_log": sum(len(t[1] or "") for t in dtmf_rows),
        "still_answering_after_the_flood": r.hangup_by == "caller",
        "outcome": getattr(row, "outcome", None),
        "error": r.error,
    }


def _silent_caller(target, tmp: Path, factory, no_input_s: float) -> dict:
    from sip.script import CallScript

    script = CallScript().wait_for_audio(timeout=20).wait(240)  # never says or presses anything
    rec = tmp / "silent.wav"
    r = _place(target, script, rec, 300)
    row, turns = _call_row(factory, r.channel_id) if r.channel_id else (None, [])
    gaps = _silences(rec) if rec.exists() else []
    longest = max((g[1] for g in gaps), default=0.0)
    return {
        "connected": r.connected,
        "hung_up_by": r.hangup_by,
        "call_seconds": round(r.duration_s, 1),
        "no_input_seconds": no_input_s,
        "audible_seconds": _audible_s(rec) if rec.exists() else None,
        "silences_over_1s": [g for g in gaps if g[1] > 1.0],
        "longest_silence_s": longest,
        # A wait for the caller's answer after a prompt is the no-input window; dead air is beyond it.
        "longest_silence_beyond_the_listening_window_s": round(max(0.0, longest - no_input_s), 2),
        "outcome": getattr(row, "outcome", None),
        "turns": [(k, a) for k, _, _, a in turns],
    }


def _two_hour_call(target, tmp: Path, factory, limit_s: float) -> dict:
    from sip.script import CallScript

    script = CallScript().wait_for_audio(timeout=20).wait_for_silence(1.0, timeout=60)
    for _ in range(int(TWO_HOURS_S / 6)):  # keeps the line busy for two hours: '*' (repeat) every 6 s
        script.dtmf("*").wait(6.0)
    rec = tmp / "two-hours.wav"
    r = _place(target, script, rec, limit_s + 120)
    row, turns = _call_row(factory, r.channel_id) if r.channel_id else (None, [])
    db, step = _frames_db(rec) if rec.exists() else (np.zeros(0), 0.02)
    loud = np.flatnonzero(db > -40.0)
    last_sound = float(loud[-1] + 1) * step if loud.size else None
    return {
        "attempted_s": TWO_HOURS_S,
        "limit_s": limit_s,
        "connected": r.connected,
        "hung_up_by": r.hangup_by,
        "ended_after_s": round(r.duration_s, 1),
        "last_sound_heard_at_s": round(last_sound, 1) if last_sound else None,
        "outcome": getattr(row, "outcome", None),
        "last_turns": [(k, a) for k, _, _, a in turns][-3:],
    }


# --- (f) malformed ARI events ---------------------------------------------------------------------


def _ari_events() -> list[tuple[str, str | bytes]]:
    rng = random.Random(11)
    ok = '{"type": "StasisStart", "channel": {"id": "fake-%d"}}'
    out: list[tuple[str, str | bytes]] = []
    for i in range(20):
        full = json.dumps({"type": "ChannelDtmfReceived", "channel": {"id": f"c{i}"}, "digit": "5"})
        out.append(("truncated_json", full[: rng.randrange(1, len(full) - 1)]))
        out.append(("binary", rng.randbytes(rng.randrange(1, 300))))
        out.append(("not_an_object", rng.choice(["[1,2]", "null", "42", '"StasisStart"', "true"])))
        out.append(
            ("type_not_a_string", json.dumps({"type": rng.choice([5, None, [], {}]), "channel": {"id": "x"}}))
        )
    for i in range(20):
        wrong = [
            ("args", 5),
            ("args", {"a": 1}),
            ("caller", "0912345678"),
            ("caller", {"number": 912345678}),
            ("channelvars", [1]),
            ("dialplan", "ctx"),
            ("name", ["x"]),
        ]
        key, value = wrong[i % len(wrong)]
        ch: dict = {"id": f"hostile-{i}"}
        if key == "args":
            out.append(("wrong_types", json.dumps({"type": "StasisStart", "channel": ch, "args": value})))
        else:
            ch[key] = value
            out.append(("wrong_types", json.dumps({"type": "StasisStart", "channel": ch})))
        out.append(
            (
                "missing_ids",
                json.dumps(
                    {
                        "type": rng.choice(
                            ["StasisStart", "StasisEnd", "ChannelDtmfReceived", "ChannelDestroyed"]
                        ),
                        "channel": rng.choice([{}, {"id": None}, {"id": ""}, "x", None]),
                    }
                ),
            )
        )
        out.append(("unknown_type", json.dumps({"type": f"NoSuchEvent{i}", "channel": {"id": "x"}})))
        out.append(
            (
                "bad_key",
                json.dumps(
                    {
                        "type": "ChannelDtmfReceived",
                        "channel": {"id": "c"},
                        "digit": rng.choice(["55555", 5, "", "é", None]),
                    }
                ),
            )
        )
    out.append(("huge_payload_under_limit", json.dumps({"type": "Dial", "pad": "x" * 3_000_000})))
    out.append(("huge_id", ok.replace("fake-%d", "1" * 1_000_000)))
    out.append(("huge_payload_over_limit", json.dumps({"type": "Dial", "pad": "x" * 6_000_000})))
    out.append(("after_reconnect", ok % 1))
    return out


def _malformed_ari(app) -> dict:
    import websockets

    from ivr.ari import AriClient, AriConfig

    messages = _ari_events()
    by_kind: dict[str, int] = {}
    for kind, _ in messages:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    failures: list[str] = []

    class _Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "handler failed" in record.getMessage():
                failures.append(record.getMessage()[:120])

    counter = _Count(logging.ERROR)
    logging.getLogger("ivr.ari").addHandler(counter)
    sessions_before = app.app.finished_sessions

    async def feed() -> dict:
        connections = 0

        async def handler(ws) -> None:
            nonlocal connections
            connections += 1
            if connections == 1:
                for _, m in messages:
                    await ws.send(m)
            await ws.wait_closed()

        server = await websockets.serve(handler, "127.0.0.1", 0, max_size=None)
        port = server.sockets[0].getsockname()[1]
        client = AriClient(AriConfig(f"http://127.0.0.1:{port}", "u", "p", "hotline", max_backoff_s=0.5))
        stop = asyncio.Event()
        task = asyncio.create_task(client.run(app.app.on_event, stop))
        for _ in range(600):  # 30 s at most: until the client came back after the oversized message
            if client.connects >= 2:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)
        server.close()
        await server.wait_closed()
        await client.close()
        return {"connects": client.connects, "malformed_counted": client.malformed}

    started = time.monotonic()
    out = asyncio.run_coroutine_threadsafe(feed(), app.loop).result(60)
    deadline = time.monotonic() + 30
    while app.app.sessions and time.monotonic() < deadline:  # StasisStarts for channels Asterisk never had
        time.sleep(0.1)
    logging.getLogger("ivr.ari").removeHandler(counter)
    return {
        "events_sent": len(messages),
        "by_kind": by_kind,
        **out,
        "handler_exceptions": len(failures),
        "spurious_sessions_started_and_ended": app.app.finished_sessions - sessions_before,
        "sessions_left": len(app.app.sessions),
        "rtp_ports_in_use_after": app.app.s.ports.in_use,
        "seconds": round(time.monotonic() - started, 1),
    }


# --- (g) uploads --------------------------------------------------------------------------------


def _files_under(root: Path) -> set[str]:
    skip = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".db", ".db-wal", ".db-shm", ".log", ".jsonl")
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.endswith(skip)}


def _raw_post(
    port: int,
    path: str,
    headers: dict[str, str],
    body_chunks,
    chunked: bool,
    length: int | None = None,
    deadline_s: float = 30.0,
) -> tuple[int | None, str, int]:
    import select

    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {length}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head.encode())
    sock.setblocking(False)
    sent, pending, response, writing = 0, b"", b"", True
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end:
            readable, writable, _ = select.select([sock], [sock] if writing else [], [], 0.5)
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
                continue
            if writable:
                if not pending:
                    nxt = next(body_chunks, None)
                    if nxt is None:
                        writing = False
                        if chunked:
                            sock.send(b"0\r\n\r\n")
                        continue
                    pending = (f"{len(nxt):x}\r\n".encode() + nxt + b"\r\n") if chunked else nxt
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    writing = False
                    continue
                sent, pending = sent + n, pending[n:]
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    m = re.match(rb"HTTP/1\.1 (\d{3})", response)
    return (
        (int(m.group(1)) if m else None),
        response.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace"),
        sent,
    )


def _non_audio_files(rng: random.Random) -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes) of files that are not what their name says."""
    riff_lie = b"RIFF" + (0xFFFFFFF0).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
    riff_lie += bytes([1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0]) + b"data"
    riff_lie += (0xFFFFFFF0).to_bytes(4, "little") + rng.randbytes(200)
    return [
        ("random_bytes.wav", "loi-chao.wav", rng.randbytes(50_000)),
        ("random_bytes.mp3", "loi-chao.mp3", rng.randbytes(50_000)),
        ("text.wav", "ghi-am.wav", ("Xin chào, đây không phải âm thanh.\n" * 200).encode()),
        ("png.mp3", "anh.mp3", b"\x89PNG\r\n\x1a\n" + rng.randbytes(5000)),
        ("html.wav", "trang.wav", b"<html><script>alert(1)</script></html>"),
        ("empty.wav", "rong.wav", b""),
        ("riff_header_lies.wav", "doi.wav", riff_lie),
        ("riff_truncated.wav", "cut.wav", riff_lie[:30]),
        ("id3_then_garbage.mp3", "bai.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x21" + rng.randbytes(20_000)),
        ("zip.mp3", "nen.mp3", b"PK\x03\x04" + rng.randbytes(3000)),
        ("elf.wav", "chuongtrinh.wav", b"\x7fELF\x02\x01\x01" + rng.randbytes(3000)),
    ]


def _uploads(base: str, settings, token: str) -> dict:
    import httpx

    from console.edit.recordings import MAX_UPLOAD_BYTES
    from tests.console.helpers import PASSWORD, csrf_of

    port = int(base.rsplit(":", 1)[1])
    data_dir = Path(settings.data_dir)
    before = _files_under(data_dir)
    rng = random.Random(9)
    results: list[dict] = []

    def record(target: str, kind: str, status: int | None, text: str, sent: int | None = None) -> None:
        results.append(
            {
                "target": target,
                "input": kind,
                "status": status,
                "vietnamese": bool(VIETNAMESE.search(text)),
                "bytes_sent": sent,
            }
        )

    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/console/login")
        r = client.post(
            "/console/login", data={"username": "lan", "password": PASSWORD, "csrf": csrf_of(page.text)}
        )
        assert r.status_code == 303, r.text[:200]
        prompts = client.get("/console/prompts")
        csrf = csrf_of(prompts.text)
        cookie = client.cookies["hotline_console"]
        for kind, name, data in _non_audio_files(rng):
            resp = client.post(
                "/console/prompts/greeting/upload",
                data={"csrf": csrf},
                files={"file": (name, data, "audio/wav" if name.endswith(".wav") else "audio/mpeg")},
            )
            record("console_prompt", kind, resp.status_code, resp.text)
            resp = client.post(
                "/api/broadcast/bulletins",
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                files={"file": (name, data, "audio/mpeg")},
            )
            record("radio_bulletin", kind, resp.status_code, resp.text)
        # A bulletin whose front matter is a YAML alias bomb.
        bomb = (
            "---\n"
            + "\n".join(
                ["a0: &a0 [ha]"]
                + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
            )
            + "\n---\n# Tin\n\nNội dung.\n"
        )
        t0 = time.monotonic()
        resp = client.post(
            "/api/broadcast/bulletins",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("bom.md", bomb.encode(), "text/markdown")},
        )
        record(
            "radio_bulletin",
            f"alias_bomb_front_matter ({time.monotonic() - t0:.2f} s)",
            resp.status_code,
            resp.text,
        )
    boundary = "ranh-gioi"
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="dai.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    console_headers = {
        "Cookie": f"hotline_console={cookie}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    api_headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "text/markdown",
        "Accept": "application/json",
    }
    big = 64 * 1024 * 1024

    def body(prefix: bytes, total: int):
        if prefix:
            yield prefix
        chunk = b"x" * 65536
        for _ in range(total // 65536):
            yield chunk

    for target, path, headers, prefix, cap in (
        ("console_prompt", "/console/prompts/greeting/upload", console_headers, part, MAX_UPLOAD_BYTES),
        ("radio_bulletin", "/api/broadcast/bulletins", api_headers, b"", settings.broadcast.max_upload_bytes),
    ):
        status, text, sent = _raw_post(port, path, headers, body(prefix, big), chunked=True)
        record(target, "chunked_64MiB", status, text, sent)
        status, text, sent = _raw_post(port, path, headers, iter(()), chunked=False, length=big)
        record(target, "declared_64MiB_never_sent", status, text, sent)
        over = cap + 256 * 1024
        status, text, sent = _raw_post(
            port,
            path,
            headers,
            body(prefix, over),
            chunked=False,
            length=len(prefix) + (over // 65536) * 65536,
        )
        record(target, f"declared_and_sent_{over // 1024}KiB", status, text, sent)
    after = _files_under(data_dir)
    statuses: dict[str, int] = {}
    for row in results:
        key = str(row["status"])
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "inputs": len(results),
        "statuses": statuses,
        "all_4xx": all(r["status"] is not None and 400 <= r["status"] < 500 for r in results),
        "all_vietnamese": all(r["vietnamese"] for r in results),
        "files_written_to_data_dir": sorted(after - before),
        "results": results,
    }


# --- (h) hostile YAML ----------------------------------------------------------------------------


def _hostile_yaml() -> list[tuple[str, str]]:
    bomb = (
        "\n".join(
            ["a0: &a0 [ha]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
        )
        + "\nintents: []\n"
    )
    deep_flow = "intents: " + "[" * 50_000 + "]" * 50_000 + "\n"
    deep_block = "intents:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(1, 400)) + "  " * 400 + "  v\n"
    big = "intents:\n" + "".join(
        f"  - id: y{i}\n    title: {'x' * 50}\n    answer: {'y' * 80}\n" for i in range(30_000)
    )
    good = "intents:\n  - id: extra\n    title: Thêm\n    answer: Xin chào.\n    examples: [xin chào]\n"
    return [
        ("billion_laughs_alias_bomb", bomb),
        ("deeply_nested_flow_50000", deep_flow),
        ("deeply_nested_block_400", deep_block),
        (f"multi_megabyte_{len(big) // (1024 * 1024)}MB", big),
        ("tab_indentation", good.replace("    title", "\ttitle")),
        ("bom_and_tabs", "\ufeff" + good.replace("  - id", "\t- id")),
        ("duplicate_keys", good + "  - id: extra2\n    id: extra3\n    title: T\n    answer: A.\n"),
        ("python_tag", "intents:\n  - !!python/object/apply:os.system ['true']\n"),
        ("not_utf8", "intents: [\udcff]\n"),
    ]


def _subprocess_peak_rss(path: Path) -> dict:
    """Loading the catalog with this file in a fresh interpreter: its peak RSS and the error it gave."""
    code = (
        "import resource,sys,time\nfrom intents.catalog import load_catalog\nt=time.monotonic()\n"
        "try:\n load_catalog(sys.argv[1]); r='loaded'\n"
        "except Exception as e:\n r=type(e).__name__+': '+str(e)[:200]\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss//1024, round(time.monotonic()-t,2), r)"
    )
    baseline = (
        "import resource\nfrom intents.catalog import load_catalog\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss//1024)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        base = int(
            subprocess.run(
                [sys.executable, "-c", baseline],
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
                cwd=ROOT,
            ).stdout.strip()
            or 0
        )
        run = subprocess.run(
            [sys.executable, "-c", code, str(path.parent)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=ROOT,
        )
        peak, seconds, said = run.stdout.strip().split(" ", 2)
        return {
            "peak_rss_mb": int(peak),
            "rss_above_import_mb": int(peak) - base,
            "seconds": float(seconds),
            "result": said,
        }
    except (subprocess.TimeoutExpired, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def _sample_rss(done: threading.Event, peak: list[int]) -> None:
    """Keeps peak[0] at the highest resident size (kB) seen every 20 ms until `done`."""
    while not done.wait(0.02):
        peak[0] = max(peak[0], _vm("VmRSS"))


def _yaml_files(app, base: str, catalog_dir: Path, tmp: Path) -> dict:
    import httpx

    from tests.console.helpers import PASSWORD, csrf_of

    watcher = app.app.s.understanding.watcher
    results = []
    with httpx.Client(base_url=base, timeout=120) as client:
        page = client.get("/console/login")
        client.post(
            "/console/login", data={"username": "lan", "password": PASSWORD, "csrf": csrf_of(page.text)}
        )
        for name, text in _hostile_yaml():
            matcher, reloads = watcher.matcher, watcher.reloads
            target = catalog_dir / "zz_hostile.yaml"
            raw = text.encode("utf-8", "surrogateescape")
            rss0 = _vm("VmRSS")
            peak = [rss0]
            done = threading.Event()

            sampler = threading.Thread(target=_sample_rss, args=(done, peak), daemon=True)
            sampler.start()
            failed0 = watcher._failed
            t0 = time.monotonic()
            target.write_bytes(raw)
            deadline = time.monotonic() + 120
            while watcher._failed == failed0:  # until the watcher rejected (or took) this very file
                if time.monotonic() > deadline or watcher.reloads != reloads:
                    break
                time.sleep(0.05)
            rejected_after = time.monotonic() - t0
            console = client.get("/console/intents")
            done.set()
            sampler.join()
            error = watcher.last_error or ""
            line_named = bool(re.search(r"zz_hostile\.yaml:\d+", error))
            # The file alone, in a fresh interpreter: peak memory of loading it.
            alone = tmp / f"alone-{name}"
            alone.mkdir(exist_ok=True)
            for f in catalog_dir.iterdir():
                if f.is_file():
                    shutil.copy2(f, alone / f.name)
            fresh = _subprocess_peak_rss(alone / "zz_hostile.yaml")
            shutil.rmtree(alone, ignore_errors=True)
            target.unlink()
            results.append(
                {
                    "input": name,
                    "bytes": len(raw),
                    "rejected": watcher.matcher is matcher and watcher.reloads == reloads and bool(error),
                    "seconds_until_rejected": round(rejected_after, 2),
                    "error": error[:220],
                    "error_names_the_line": line_named,
                    "running_catalog_unchanged": watcher.matcher is matcher,
                    "app_rss_growth_mb": round((peak[0] - rss0) / 1024, 1),
                    "console_intents_page_status": console.status_code,
                    "fresh_process": fresh,
                }
            )
            # Back to the good catalog: the watcher sees the original files again (no swap needed).
            time.sleep(2 * watcher.interval + 0.2)
    return {"inputs": len(results), "results": results}


def _yaml_form_edits(app, base: str, catalog_dir: Path) -> dict:
    """Intent edits through the console form with YAML-looking text: stored as text, or refused cleanly."""
    import httpx

    from core.yamlfile import load_yaml
    from tests.console.helpers import PASSWORD, csrf_of

    hostile = [
        ("alias_syntax", "&a [*a, *a, *a] và *b"),
        ("python_tag", "!!python/object/apply:os.system ['id']"),
        ("document_markers", "---\n...\n--- !binary |\n  aGVsbG8="),
        ("flow_braces", "{a: [1, {b: *c}]}: ]"),
        ("tabs_and_bom", "\ufeff\tXin\tchào"),
        ("key_value", "id: other\nanswer: hijack"),
        ("over_the_field_limit", "Dạ " * 5000),
    ]
    out = []
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/console/login")
        client.post(
            "/console/login", data={"username": "lan", "password": PASSWORD, "csrf": csrf_of(page.text)}
        )
        listing = client.get("/console/intents").text
        first = app.app.s.understanding.current()[0].intents[0]
        intent_id, title = first.id, first.title
        assert f"/console/intents/{intent_id}" in listing
        for name, value in hostile:
            edit = client.get(f"/console/intents/{intent_id}")
            version = re.search(r'name="version" value="([^"]*)"', edit.text)
            form = {
                "csrf": csrf_of(edit.text),
                "do": "save",
                "version": version.group(1) if version else "",
                "title": title,
                "answer": f"Câu trả lời. {value}",
                "follow_up": "",
                "examples": "xin hỏi\nthủ tục",
            }
            resp = client.post(f"/console/intents/{intent_id}/edit", data=form)
            parsed_ok, stored_verbatim = True, None
            for f in catalog_dir.glob("*.yaml"):
                try:
                    doc = load_yaml(f)
                except Exception:
                    parsed_ok = False
                    continue
                for item in (doc.data or {}).get("intents") or []:
                    if isinstance(item, dict) and item.get("id") == intent_id:
                        stored_verbatim = value.replace("\ufeff", "").split()[0] in str(item.get("answer"))
            out.append(
                {
                    "input": name,
                    "status": resp.status_code,
                    "files_still_parse": parsed_ok,
                    "stored_as_text": stored_verbatim,
                    "vietnamese_message": bool(VIETNAMESE.search(resp.text))
                    if resp.status_code >= 400
                    else None,
                }
            )
    return {"intent": intent_id, "results": out}


# --- the run --------------------------------------------------------------------------------------


def run() -> dict:
    from asterisk.process import start
    from core.db import engine_for, session_factory
    from hotline.db import upgrade
    from hotline.settings import load_settings
    from tests.browser import serve
    from tests.console.helpers import add_operator
    from tests.ivr.conftest import loopback_env
    from tests.support import free_port
    from web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-bad-input-"))
    catalog_dir = tmp / "intents"
    shutil.copytree(CATALOG, catalog_dir)
    tcp_port = free_port(socket.SOCK_STREAM)
    token = "mot-ma-truy-cap-dai-du-32-ky-tu-x"
    env = {
        **loopback_env(tmp),
        "HOTLINE_IVR__ASTERISK__SIP_TCP_PORT": str(tcp_port),
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",
        "HOTLINE_IVR__FLOW__MAX_CALL_MINUTES": str(MAX_CALL_MINUTES),
        "HOTLINE_INTENTS__CATALOG_DIR": str(catalog_dir),
        "HOTLINE_INTENTS__RELOAD_INTERVAL": "0.5",
        "HOTLINE_BROADCAST__API_TOKEN": token,
    }
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    rtp = (settings.ivr.asterisk.rtp_port_start, settings.ivr.asterisk.rtp_port_end)
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    handle = start(settings)
    app = _App(settings)
    out: dict = {"call_limit_s": MAX_CALL_MINUTES * 60, "categories": {}}
    cats = out["categories"]

    def step(name: str, fn) -> None:
        started = time.monotonic()
        print(f"   bad_input: {name}", flush=True)
        try:
            cats[name] = fn()
        except Exception as exc:  # one category failing must not hide the others
            import traceback

            traceback.print_exc()
            cats[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        cats[name]["product_errors_logged"] = errors.take()[:10]
        cats[name]["bench_seconds"] = round(time.monotonic() - started, 1)

    try:
        app.start()
        upgrade(settings.database_url)
        add_operator(settings)
        factory = session_factory(engine_for(settings))
        target = __import__("sip.script", fromlist=["CallTarget"]).CallTarget.from_handle(handle)
        pid0 = handle.pid

        def sip_then_call() -> dict:
            res = _malformed_sip(handle, tcp_port)
            res["asterisk_pid_unchanged"] = handle.pid == pid0 and Path(f"/proc/{pid0}").exists()
            res["real_call_afterwards"] = _greeted_call(target, tmp, "after-sip", factory)
            return res

        step("a_malformed_sip", sip_then_call)
        step("b_malformed_rtp", lambda: _malformed_rtp(app, handle, target, tmp, factory, rtp))
        step("c_dtmf_flood", lambda: _dtmf_flood(app, target, tmp, factory))
        step(
            "d_silent_caller",
            lambda: _silent_caller(target, tmp, factory, settings.ivr.flow.no_input_seconds),
        )
        step("e_two_hour_call", lambda: _two_hour_call(target, tmp, factory, MAX_CALL_MINUTES * 60))
        step("f_malformed_ari_events", lambda: _malformed_ari(app))
        with serve(create_app(settings)) as base:
            step("g_uploads", lambda: _uploads(base, settings, token))
            step("h_hostile_yaml_files", lambda: _yaml_files(app, base, catalog_dir, tmp))
            step("h_hostile_yaml_form_edits", lambda: _yaml_form_edits(app, base, catalog_dir))
        step("final_real_call", lambda: _greeted_call(target, tmp, "final", factory))
        out["asterisk_survived"] = Path(f"/proc/{pid0}").exists() and handle.pid == pid0
        out["application_sessions_left"] = len(app.app.sessions)
        out["rtp_ports_leaked"] = app.app.s.ports.in_use
    finally:
        logging.getLogger().removeHandler(errors)
        if app.app is not None:
            app.close()
        handle.stop()
    return out


if __name__ == "__main__":
    names = sys.argv[1:]
    print(json.dumps(run(), indent=2, ensure_ascii=False, default=str))
