"""Request body caps and the order "authorize, then read", over real HTTP to uvicorn on loopback.

A raw socket streams a chunked body (no Content-Length to look at) and watches for the answer while it
sends: a server that reads everything first only answers once all 64 MiB went through.
"""

from __future__ import annotations

import re
import select
import socket
import time

import httpx
import pytest

from console.edit.recordings import MAX_UPLOAD_BYTES as PROMPT_UPLOAD_BYTES
from hotline.db import upgrade
from tests.broadcast.conftest import make_settings
from tests.browser import serve
from tests.console.helpers import PASSWORD, add_operator, csrf_of
from web.bodylimit import DEFAULT_MAX_BODY_BYTES, BodyLimit, _size_vi, upload_cap

pytestmark = pytest.mark.slow

TOKEN = "mot-ma-truy-cap-dai-du-32-ky-tu-x"
TOTAL = 64 * 1024 * 1024  # what a hostile client offers
SLACK = 8 * 1024 * 1024  # what loopback socket buffers take in while nobody reads (a few MB)
BOUNDARY = "ranh-gioi"
FILE_PART = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\n'
    "Content-Type: text/markdown\r\n\r\n"
).encode()


def _frames(prefix: bytes):
    """The chunked body: `prefix`, then TOTAL bytes in 64 KiB chunks, then the last chunk."""
    if prefix:
        yield f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n"
    chunk = 64 * 1024
    frame = f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n"
    for _ in range(TOTAL // chunk):
        yield frame
    yield b"0\r\n\r\n"


def _read_response(sock: socket.socket, response: bytes) -> bytes:
    """The rest of a response whose head (at least) arrived; bounded by its Content-Length and 5 s."""
    sock.setblocking(True)
    sock.settimeout(5)
    head, _, body = response.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    try:
        while length and len(body) < int(length.group(1)):
            data = sock.recv(65536)
            if not data:
                break
            body += data
    except (TimeoutError, ConnectionResetError):
        pass
    return head + b"\r\n\r\n" + body


def stream(port: int, path: str, headers: dict[str, str], prefix: bytes = b"", deadline_s: float = 60.0):
    """POST a chunked body of TOTAL bytes (after `prefix`), reading the answer as soon as there is one.

    Returns (status, response bytes, body bytes handed to the socket before the answer came).
    """
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    frames = _frames(prefix)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head.encode())
    sock.setblocking(False)
    sent, pending, response, writing = 0, b"", b"", True
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end and b"\r\n\r\n" not in response:
            readable, writable, _ = select.select([sock], [sock] if writing else [], [], 1.0)
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
            elif writable:
                if not pending:
                    pending = next(frames, b"")
                    writing = bool(pending)
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    writing = False  # the server closed its side after answering: read the answer
                    continue
                sent, pending = sent + n, pending[n:]
        if b"\r\n\r\n" in response:
            response = _read_response(sock, response)
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    match = re.match(rb"HTTP/1\.1 (\d{3})", response)
    return (int(match.group(1)) if match else None), response, sent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The whole app under uvicorn: an API token for the radio side, one console operator."""
    from web.app import create_app

    settings = make_settings(tmp_path_factory.mktemp("limits"), HOTLINE_BROADCAST__API_TOKEN=TOKEN)
    upgrade(settings.database_url)
    add_operator(settings)
    with serve(create_app(settings)) as base:
        yield int(base.rsplit(":", 1)[1]), settings


def test_an_upload_without_credentials_is_refused_before_its_body_is_read(server):
    port, _ = server
    status, response, sent = stream(
        port,
        "/api/broadcast/bulletins",
        {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        FILE_PART,
    )
    assert status == 401, response[:300]
    assert sent < SLACK, f"{sent} bytes went out before the refusal"


def test_a_writer_s_chunked_upload_is_cut_off_at_the_cap(server):
    port, settings = server
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "text/markdown",
        "Accept": "application/json",
    }
    status, response, sent = stream(port, "/api/broadcast/bulletins", headers)
    assert status == 413, response[:300]
    assert "quá lớn" in response.decode("utf-8", "replace")
    assert sent < settings.broadcast.max_upload_bytes + SLACK


def test_a_declared_length_over_the_cap_is_refused_without_waiting_for_the_body(server):
    port, _ = server
    head = (
        f"POST /api/broadcast/bulletins HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Length: {60 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:  # the body never comes
        sock.sendall(head.encode())
        response = b""
        while b"\r\n\r\n" not in response and (data := sock.recv(65536)):
            response += data
        response = _read_response(sock, response)
    assert response.startswith(b"HTTP/1.1 413"), response[:300]
    assert "Dữ liệu gửi lên quá lớn" in response.decode("utf-8")


def test_the_console_prompt_upload_is_capped_for_chunked_bodies_too(server):
    port, _ = server
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get("/console/login")
        r = client.post(
            "/console/login", data={"username": "lan", "password": PASSWORD, "csrf": csrf_of(page.text)}
        )
        assert r.status_code == 303, r.text
        cookie = client.cookies["hotline_console"]
    headers = {
        "Cookie": f"hotline_console={cookie}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    status, response, sent = stream(port, "/console/prompts/greeting/upload", headers, FILE_PART)
    assert status == 413, response[:300]
    assert sent < upload_cap(PROMPT_UPLOAD_BYTES) + SLACK


def test_an_ordinary_form_gets_the_default_cap(server):
    port, _ = server
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, response, sent = stream(port, "/console/login", headers, b"username=")
    assert status == 413, response[:300]
    assert sent < DEFAULT_MAX_BODY_BYTES + SLACK


def test_caps_by_route():
    limit = BodyLimit(
        app=None,  # type: ignore[arg-type]  # only the lookup is exercised
        default=DEFAULT_MAX_BODY_BYTES,
        caps={("POST", "/console/prompts/{key}/upload"): upload_cap(1000)},
    )
    assert limit.cap_for("POST", "/console/prompts/greeting/upload") == 1000 + 64 * 1024
    assert limit.cap_for("GET", "/console/prompts/greeting/upload") == DEFAULT_MAX_BODY_BYTES
    assert limit.cap_for("POST", "/console/prompts/a/b/upload") == DEFAULT_MAX_BODY_BYTES
    assert (_size_vi(1 << 20), _size_vi(upload_cap(20 << 20)), _size_vi(320 * 1024)) == (
        "1 MB",
        "20,1 MB",
        "320 kB",
    )
