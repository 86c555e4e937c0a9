"""Call workers' pure parts: ivr.workers settings, the outbound Asterisk config, HAProxy's config (checked
by HAProxy itself), Asterisk's credentials, which socket starts a call, ARI requests over a call's socket."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from asterisk.workers import WORKER_USER, WorkersSettings
from hotline.haproxy import haproxy_config
from ivr.ari import AriConfig, AriError
from ivr.socket_ari import SocketAri
from ivr.worker import WorkerState, authorized, caller_channel_name, is_call_start

ROOT = Path(__file__).resolve().parents[2]


def test_default_is_inbound_and_gives_up_on_a_dead_worker_within_three_seconds():
    workers = WorkersSettings()
    assert workers.ari_mode == "inbound"  # `make run` unchanged
    assert workers.listen_address == "127.0.0.1" and workers.front_address == "127.0.0.1"
    assert workers.give_up_ms == 3 * 500 + 2 * 250 <= 3000
    assert workers.front_uri == f"ws://127.0.0.1:{workers.front_port}/ari"
    assert workers.worker_backends == (f"127.0.0.1:{workers.listen_port}",)


def test_bad_worker_settings_name_file_line_and_key(tmp_path):
    from core.errors import ConfigError
    from hotline.settings import load_settings

    cfg = tmp_path / "hotline.yaml"
    cfg.write_text("ivr:\n  workers:\n    reconnect_attempts: 8\n    connection_timeout_ms: 1000\n")
    with pytest.raises(ConfigError, match=r"hotline.yaml:\d+.*ivr.workers.*longer than 3000 ms"):
        load_settings(cfg)
    cfg.write_text("ivr:\n  workers:\n    backends: [127.0.0.1]\n")
    with pytest.raises(ConfigError, match=r"hotline.yaml:3.*ivr.workers.backends.*not host:port"):
        load_settings(cfg)


def test_outbound_mode_renders_a_per_call_websocket_to_the_front(tmp_path):
    from asterisk.render import Layout, render_config
    from asterisk.workers import workers_values
    from tests.ivr.test_asterisk import _values

    workers = WorkersSettings(ari_mode="outbound", front_port=9001)
    layout = Layout(root=tmp_path, inst="/i")
    render_config(ROOT / "config" / "asterisk", layout, _values(**workers_values(workers, "pw-1")))
    etc = tmp_path / "i" / "etc"
    ari, client = (etc / "ari.conf").read_text(), (etc / "websocket_client.conf").read_text()
    assert "type = outbound_websocket" in ari and "apps = hotline" in ari
    assert "local_ari_user = hotline" in ari
    for line in (
        "connection_type = per_call_config",
        "uri = ws://127.0.0.1:9001/ari",
        f"username = {WORKER_USER}",
        "password = pw-1",
        "connection_timeout = 500",
        "reconnect_interval = 250",
        "reconnect_attempts = 3",
    ):
        assert line in client
    # Inbound (the default): no outbound connection at all.
    render_config(ROOT / "config" / "asterisk", layout, _values())
    assert "outbound_websocket" not in (etc / "ari.conf").read_text()
    assert "type = websocket_client" not in (etc / "websocket_client.conf").read_text()


def test_haproxy_config_is_valid_for_haproxy(tmp_path):
    workers = WorkersSettings(ari_mode="outbound", backends=("127.0.0.1:9101", "10.0.0.7:9101"))
    text = haproxy_config(workers)
    assert "bind 127.0.0.1:8093" in text and "balance leastconn" in text
    assert "server worker1 127.0.0.1:9101 check" in text and "server worker2 10.0.0.7:9101 check" in text
    assert "uri /healthz" in text and "retry-on conn-failure empty-response 503" in text
    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed (make setup installs it)", pytrace=False)
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    done = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_only_asterisks_credentials_open_a_call_socket():
    good = "Basic " + base64.b64encode(b"asterisk:pw").decode()
    assert authorized(good, "asterisk", "pw")
    assert not authorized("Basic " + base64.b64encode(b"asterisk:px").decode(), "asterisk", "pw")
    assert not authorized(None, "asterisk", "pw")
    assert not authorized("Basic !!!", "asterisk", "pw")
    assert not authorized(good, "asterisk", "")  # no password configured: nobody


def test_health_is_ok_only_when_ready_and_not_draining():
    state = WorkerState()
    assert state.health()[0] == 503 and state.health()[1]["status"] == "starting"
    state.ready = True
    assert state.health()[0] == 200
    state.draining = True
    assert state.health() == (503, {"status": "draining", "active": 0, "served": 0, "orphans": 0})


def test_metrics_are_prometheus_text_with_the_call_counts():
    from prometheus_client.parser import text_string_to_metric_families

    state = WorkerState(ready=True, active=2, served=7, orphans=1)
    families = {f.name: f for f in text_string_to_metric_families(state.metrics().decode())}
    values = {name: f.samples[0].value for name, f in families.items()}
    assert values == {
        "hotline_worker_calls_running": 2,
        "hotline_worker_calls_served": 7,  # the parser drops a counter's _total
        "hotline_worker_calls_handed_on": 1,
        "hotline_worker_draining": 0,
    }


def test_workers_sharing_a_data_directory_keep_their_own_journal_and_pid_file(tmp_path):
    from hotline.settings import load_settings
    from hotline.supervisor import worker_pid_file
    from ivr.startup import CALL_LOG_JOURNAL, call_log_journal

    assert call_log_journal(None) == CALL_LOG_JOURNAL  # the one application: as before
    assert call_log_journal("host-b:8094") == "spool/call-log-host-b_8094.jsonl"
    assert call_log_journal("host-b:8094") != call_log_journal("host-b:8095")
    env = {"HOTLINE_PATHS__DATA_DIR": str(tmp_path), "HOTLINE_IVR__WORKERS__ARI_MODE": "outbound"}
    cfg = ROOT / "config" / "hotline.yaml"
    files = {
        worker_pid_file(load_settings(cfg, env={**env, "HOTLINE_IVR__WORKERS__LISTEN_PORT": port}))
        for port in ("8094", "8095")
    }
    assert len(files) == 2
    settings = load_settings(cfg, env={**env, "HOTLINE_IVR__WORKERS__WORKER_ID": "b-1"})
    assert settings.ivr.workers.worker_name == "b-1"
    assert load_settings(cfg, env=env).ivr.workers.worker_name.endswith(":8094")


def test_which_first_event_starts_a_call():
    caller = {"type": "StasisStart", "channel": {"id": "1733.5"}, "args": []}
    assert is_call_start(caller)
    assert not is_call_start({"type": "ApplicationRegistered", "application": "hotline:PJSIP/caller-1"})
    assert not is_call_start({"type": "StasisStart", "channel": {"id": "hl-media-abc"}})
    assert not is_call_start({"type": "StasisStart", "channel": {"id": "x.1"}, "args": ["operator"]})
    assert caller_channel_name("hotline:PJSIP/caller-00000001", "hotline") == "PJSIP/caller-00000001"
    assert caller_channel_name("other:PJSIP/x", "hotline") == ""


class _Socket:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send(self, message: str) -> None:
        self.sent.append(json.loads(message))


def _cfg() -> AriConfig:
    return AriConfig("", "hotline", "pw", "hotline:PJSIP/caller-1", request_timeout_s=1.0)


def test_rest_over_the_socket_sends_asterisks_request_format_and_reads_the_answer():
    async def main() -> None:
        sock = _Socket()
        ari = SocketAri(_cfg(), sock)
        task = asyncio.create_task(ari.external_media("hl-media-1", "127.0.0.1:40000", "ulaw"))
        await asyncio.sleep(0)
        sent = sock.sent[0]
        assert sent["type"] == "RESTRequest" and sent["method"] == "POST"
        assert sent["uri"] == "channels/externalMedia"  # relative to ARI's root, as Asterisk resolves it
        query = {q["name"]: q["value"] for q in sent["query_strings"]}
        assert query["app"] == "hotline:PJSIP/caller-1"  # the call's own application: events come here
        body = json.dumps({"id": "hl-media-1"})
        ari.on_response({"type": "RESTResponse", "request_id": sent["request_id"], "status_code": 200,
                         "message_body": body})  # fmt: skip
        assert await task == {"id": "hl-media-1"}

        missing = asyncio.create_task(ari.hangup("gone.1"))
        await asyncio.sleep(0)
        assert sock.sent[1]["method"] == "DELETE" and sock.sent[1]["uri"] == "channels/gone.1"
        gone = {"type": "RESTResponse", "request_id": sock.sent[1]["request_id"], "status_code": 404}
        ari.on_response(gone)
        assert await missing is None  # ok_missing

        refused = asyncio.create_task(ari.answer("c.1"))
        await asyncio.sleep(0)
        ari.on_response({"type": "RESTResponse", "request_id": sock.sent[2]["request_id"], "status_code": 409,
                         "reason_phrase": "Conflict"})  # fmt: skip
        with pytest.raises(AriError) as err:
            await refused
        assert err.value.status == 409

        pending = asyncio.create_task(ari.answer("c.1"))
        await asyncio.sleep(0)
        ari.fail_pending("closed")  # the socket closed: no request waits for its timeout
        with pytest.raises(AriError):
            await pending
        with pytest.raises(AriError):
            await ari.answer("c.1")

    asyncio.run(main())


def test_an_unanswered_request_fails_after_its_timeout():
    async def main() -> None:
        ari = SocketAri(_cfg(), _Socket())
        with pytest.raises(AriError, match="TimeoutError"):
            await ari.answer("c.1")

    asyncio.run(main())


class _FakeAri:
    """Records what a hand-over asks of ARI; `continue_status` makes `continue` fail like Asterisk."""

    def __init__(self, channels, bridges=(), continue_status: int = 0) -> None:
        self._channels, self._bridges = list(channels), list(bridges)
        self.continue_status = continue_status
        self.continued: list[tuple] = []
        self.hung_up: list[str] = []
        self.removed: list[str] = []

    async def channels(self):
        return self._channels

    async def bridges(self):
        return self._bridges

    async def continue_in_dialplan(self, cid, context, exten, label):
        if self.continue_status:
            raise AriError("refused", self.continue_status)
        self.continued.append((cid, context, exten, label))

    async def hangup(self, cid):
        self.hung_up.append(cid)

    async def destroy_bridge(self, bid):
        self.removed.append(bid)


def _caller(app_name: str = "Stasis") -> dict:
    return {"id": "c.1", "name": "PJSIP/caller-01", "state": "Up",
            "dialplan": {"context": "hotline-in", "exten": "1080", "app_name": app_name}}  # fmt: skip


def test_an_orphaned_call_goes_to_the_fallback_and_its_legs_and_bridge_go():
    from ivr.orphans import hand_over_call

    bridge = {"id": "hl-bridge-1", "channels": ["c.1", "hl-media-1"]}
    ari = _FakeAri([_caller(), {"id": "hl-media-1", "state": "Up"}], [bridge])
    done = asyncio.run(hand_over_call(ari, "PJSIP/caller-01"))
    assert ari.continued == [("c.1", "hotline-in", "1080", "fallback")] and done.to_fallback == ["c.1"]
    assert ari.hung_up == ["hl-media-1"] and ari.removed == ["hl-bridge-1"]


def test_a_caller_not_in_stasis_is_never_hung_up_by_a_hand_over():
    from ivr.orphans import hand_over_call

    late = _FakeAri([_caller()], continue_status=409)  # a new call whose StasisStart is late
    done = asyncio.run(hand_over_call(late, "PJSIP/caller-01"))
    assert not done and not done.to_fallback and late.hung_up == []
    gone_on = _FakeAri([_caller(app_name="Dial")])  # back in the dialplan already
    assert not asyncio.run(hand_over_call(gone_on, "PJSIP/caller-01")) and gone_on.continued == []
    assert not asyncio.run(hand_over_call(_FakeAri([]), "PJSIP/caller-01"))  # hung up meanwhile
