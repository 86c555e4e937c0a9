"""Install a Piper voice or a Vosk model from a local file or an http(s) URL, checksum verified.

Downloads stream to a temporary file beside the destination, the sha256 is checked before anything
is installed (a mismatch deletes the download), archives are extracted without path traversal, and
the installed voice or model is loaded once to prove it works.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

from core.errors import HotlineError
from voice.tts.base import TtsError

logger = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 4 * 1024**3  # refuse anything larger (a voice is ~60 MB, a Vosk model < 2 GB)
MAX_ARCHIVE_MEMBERS = 100_000
DOWNLOAD_TIMEOUT_S = 60.0  # per network read, not for the whole transfer
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz", ".zip")


class InstallError(HotlineError):
    """A voice or model could not be installed; nothing was left half-installed."""

    code = "install"


@dataclass(frozen=True)
class Installed:
    kind: str  # "piper" or "vosk"
    path: Path  # the .onnx voice or the model directory
    config_key: str  # where to point the configuration
    config_value: str  # the value to set (relative to the project root when inside it)

    @property
    def env_line(self) -> str:
        return "HOTLINE_" + self.config_key.upper().replace(".", "__") + "=" + self.config_value


def _is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def _name_of(source: str) -> str:
    return PurePosixPath(urlsplit(source).path).name if _is_url(source) else Path(source).name


Progress = Callable[[str, int, "int | None"], None]  # (file name, bytes so far, expected total or None)


def _fetch(
    source: str,
    dest_dir: Path,
    *,
    limit: int = MAX_DOWNLOAD_BYTES,
    progress: Progress | None = None,
) -> tuple[Path, str]:
    """Copy or download `source` to a temp file in `dest_dir`; (temp path, sha256 hex).

    `limit` also stops a download that grows past the size a catalog declares; `progress` is told
    after every block.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=dest_dir)
    tmp = Path(tmp_name)
    digest, size = hashlib.sha256(), 0
    try:
        with open(fd, "wb") as out:
            if _is_url(source):
                import httpx

                try:
                    with httpx.stream(
                        "GET", source, timeout=DOWNLOAD_TIMEOUT_S, follow_redirects=True
                    ) as resp:
                        if resp.status_code != 200:
                            raise InstallError(f"{source}: HTTP {resp.status_code}")
                        length = resp.headers.get("content-length")
                        total = int(length) if length and length.isdigit() else None
                        for block in resp.iter_bytes(1 << 20):
                            size += len(block)
                            if size > limit:
                                raise InstallError(f"{source}: larger than {limit:,} bytes, refused")
                            digest.update(block)
                            out.write(block)
                            if progress is not None:
                                progress(_name_of(source), size, total)
                except httpx.HTTPError as exc:
                    raise InstallError(f"{source}: download failed: {type(exc).__name__}: {exc}") from None
            else:
                path = Path(source).expanduser()
                if not path.is_file():
                    raise InstallError(f"{source}: no such file")
                with path.open("rb") as src:
                    while block := src.read(1 << 20):
                        size += len(block)
                        if size > limit:
                            raise InstallError(f"{source}: larger than {limit // 1024**2} MB, refused")
                        digest.update(block)
                        out.write(block)
        if size == 0:
            raise InstallError(f"{source}: empty file")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest()


def _check_member_name(name: str, archive: str) -> None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and p.parts[0].endswith(":")):
        raise InstallError(f"{archive}: unsafe path {name!r} in archive, refused")


def _extract(archive: Path, label: str, target: Path) -> None:
    """Extract tar or zip into `target`, refusing absolute paths, '..', links and devices."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ARCHIVE_MEMBERS:
                raise InstallError(f"{label}: too many files in archive")
            if sum(i.file_size for i in infos) > MAX_DOWNLOAD_BYTES:
                raise InstallError(
                    f"{label}: archive expands beyond {MAX_DOWNLOAD_BYTES // 1024**2} MB, refused"
                )
            for info in infos:
                _check_member_name(info.filename, label)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise InstallError(f"{label}: symbolic link {info.filename!r} in archive, refused")
            zf.extractall(target)
        return
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise InstallError(f"{label}: too many files in archive")
            for m in members:
                _check_member_name(m.name, label)
                if not (m.isfile() or m.isdir()):
                    raise InstallError(f"{label}: link or special file {m.name!r} in archive, refused")
            if sum(m.size for m in members) > MAX_DOWNLOAD_BYTES:
                raise InstallError(
                    f"{label}: archive expands beyond {MAX_DOWNLOAD_BYTES // 1024**2} MB, refused"
                )
            tf.extractall(target, filter="data")  # the stdlib's own traversal guard, as a second line
    except tarfile.TarError as exc:
        raise InstallError(f"{label}: not a readable tar or zip archive ({exc})") from None


def _find_piper(root: Path) -> Path | None:
    voices = [p for p in root.rglob("*.onnx") if p.is_file()]
    if len(voices) > 1:
        raise InstallError(f"archive holds {len(voices)} .onnx voices; install one at a time")
    return voices[0] if voices else None


def _find_vosk(root: Path) -> Path | None:
    for candidate in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if (candidate / "am").is_dir() or (candidate / "conf" / "model.conf").is_file():
            return candidate
    return None


def _check_piper_config(path: Path, label: str) -> None:
    try:
        rate = json.loads(path.read_text(encoding="utf-8"))["audio"]["sample_rate"]
        if int(rate) <= 0:
            raise ValueError("audio.sample_rate must be positive")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InstallError(f"{label}: not a Piper voice config ({type(exc).__name__}: {exc})") from None


def _verify_piper(model: Path) -> None:
    from voice.tts.piper import PiperEngine

    try:
        PiperEngine(model).close()
    except TtsError as exc:
        raise InstallError(f"the voice does not load: {exc}") from None


def _verify_vosk(model_dir: Path) -> None:
    try:
        import vosk

        vosk.SetLogLevel(-1)
        vosk.Model(str(model_dir))
    except Exception as exc:  # vosk raises a bare Exception for a broken model
        raise InstallError(f"the Vosk model does not load: {type(exc).__name__}: {exc}") from None


def _config_value(settings, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(settings.root).resolve()))
    except ValueError:
        return str(path.resolve())


def _safe_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise InstallError(f"invalid name {name!r}: use a plain file name such as vi_VN-vais1000-medium")
    return name


def install(
    settings,
    source: str,
    sha256: str,
    *,
    kind: str | None = None,
    name: str | None = None,
    force: bool = False,
) -> Installed:
    """Install SOURCE (file or URL) after checking its sha256; returns where it went and the config to set."""
    expected = sha256.strip().lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise InstallError("--sha256 must be 64 hexadecimal digits (the sha256 of SOURCE)")
    if kind not in (None, "piper", "vosk"):
        raise InstallError(f"unknown kind {kind!r}: piper or vosk")
    if name is not None:
        _safe_name(name)
    filename = _name_of(source)
    lower = filename.lower()
    is_archive = lower.endswith(ARCHIVE_SUFFIXES)
    if not is_archive and not lower.endswith(".onnx"):
        raise InstallError(f"{filename}: expected a Piper .onnx voice or a .tar.gz/.zip archive")
    if lower.endswith(".onnx") and kind == "vosk":
        raise InstallError(f"{filename}: a Vosk model comes as a directory archive (.zip/.tar.gz), not .onnx")
    cache = settings.cache_dir
    staging = cache / ".staging"
    tmp, actual = _fetch(source, staging)
    try:
        if actual != expected:
            raise InstallError(
                f"{filename}: checksum mismatch (expected sha256 {expected}, got {actual}); "
                "the download was deleted"
            )
        work = Path(tempfile.mkdtemp(prefix="install-", dir=staging))
        try:
            if not is_archive:
                return _install_piper_file(
                    settings, source, tmp, work, name or filename[: -len(".onnx")], force
                )
            _extract(tmp, filename, work / "x")
            stem = next(filename[: -len(s)] for s in ARCHIVE_SUFFIXES if lower.endswith(s))
            onnx = _find_piper(work / "x") if kind != "vosk" else None
            if onnx is not None:
                config = onnx.with_name(onnx.name + ".json")
                if not config.is_file():
                    raise InstallError(
                        f"{filename}: {onnx.name} has no {config.name} beside it in the archive"
                    )
                return _place_piper(settings, onnx, config, name or onnx.stem, force)
            if kind == "piper":
                raise InstallError(f"{filename}: no .onnx voice in the archive")
            model_dir = _find_vosk(work / "x")
            if model_dir is None:
                raise InstallError(
                    f"{filename}: neither a Piper voice (.onnx) nor a Vosk model (am/, conf/) inside"
                )
            default = model_dir.name if model_dir != work / "x" else stem
            return _place_vosk(settings, model_dir, name or default, force)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        tmp.unlink(missing_ok=True)


def _install_piper_file(
    settings, source: str, onnx_tmp: Path, work: Path, name: str, force: bool
) -> Installed:
    if _is_url(source):
        parts = urlsplit(source)
        config_source = urlunsplit(parts._replace(path=parts.path + ".json"))
    else:
        config_source = str(Path(source).expanduser()) + ".json"
    try:
        config_tmp, _ = _fetch(config_source, work, limit=16 * 1024**2)
    except InstallError as exc:
        raise InstallError(f"a Piper voice needs its .onnx.json beside the .onnx: {exc}") from None
    onnx = work / f"{name}.onnx"
    shutil.move(onnx_tmp, onnx)
    config = work / f"{name}.onnx.json"
    shutil.move(config_tmp, config)
    return _place_piper(settings, onnx, config, name, force)


def _place_piper(settings, onnx: Path, config: Path, name: str, force: bool) -> Installed:
    name = _safe_name(name)
    _check_piper_config(config, config.name)
    dest_dir = settings.cache_dir / "voices"
    dest = dest_dir / f"{name}.onnx"
    if dest.exists() and not force:
        raise InstallError(f"{dest} already exists (use --force to replace it)")
    dest_dir.mkdir(parents=True, exist_ok=True)
    staged = onnx.with_name(f"{name}.onnx")
    staged_config = staged.with_name(staged.name + ".json")
    if staged != onnx:
        shutil.move(onnx, staged)
    if staged_config != config:
        shutil.move(config, staged_config)
    _verify_piper(staged)  # still in staging: a broken voice never reaches voices/
    shutil.move(staged_config, dest.with_name(dest.name + ".json"))
    shutil.move(staged, dest)
    logger.info("installed Piper voice %s", dest)
    return Installed("piper", dest, "voice.tts.piper.model", _config_value(settings, dest))


def _place_vosk(settings, model_dir: Path, name: str, force: bool) -> Installed:
    name = _safe_name(name)
    _verify_vosk(model_dir)
    dest = settings.cache_dir / "models" / name
    if dest.exists():
        if not force:
            raise InstallError(f"{dest} already exists (use --force to replace it)")
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(model_dir, dest)
    logger.info("installed Vosk model %s", dest)
    return Installed("vosk", dest, "voice.asr.vosk.model_dir", _config_value(settings, dest))


# --- by name, from the catalog ---------------------------------------------------------------------


def install_named(
    settings,
    name: str,
    *,
    no_verify: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> Installed:
    """Install the catalog entry NAME: download every file, check size and sha256, unpack, load once.

    Nothing reaches the voices or models directory unless every file checked out and the voice or
    model loads; downloads live in a temporary directory that is always removed. Messages are in
    Vietnamese: the people running this are the province's technicians.
    """
    from voice.catalog import catalog_from_settings

    catalog = catalog_from_settings(settings)
    entry = catalog.voices.get(name)
    if entry is None:
        known = ", ".join(sorted(catalog.voices))
        raise InstallError(f"không có giọng đọc hay mô hình nào tên {name!r} trong danh mục; có: {known}")
    if not entry.verified and not no_verify:
        raise InstallError(
            f"{name}: danh mục chưa có mã kiểm tra sha256 cho mọi tệp ({entry.unverified.strip()}). "
            "Không cài khi chưa kiểm tra được tệp tải về. Nếu đã tự đối chiếu tệp với nguồn, "
            "chạy lại với --no-verify."
        )
    staging = settings.cache_dir / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="install-", dir=staging))
    try:
        downloaded: dict[str, Path] = {}
        for spec in entry.files:
            # A declared size bounds the download: a server sending more is cut off at once.
            limit = spec.size if spec.size is not None else MAX_DOWNLOAD_BYTES
            try:
                tmp, actual = _fetch(spec.url, work, limit=limit, progress=progress)
            except InstallError as exc:
                raise InstallError(f"{name}: tải {spec.name} không được, chưa cài gì: {exc}") from None
            got = tmp.stat().st_size
            if spec.size is not None and got != spec.size:
                raise InstallError(
                    f"{name}: {spec.name} có {got:,} byte, danh mục ghi {spec.size:,} byte; "
                    "tệp tải về đã bị xóa, chưa cài gì"
                )
            if spec.sha256 is not None and actual != spec.sha256:
                raise InstallError(
                    f"{name}: {spec.name} sai mã kiểm tra sha256 (danh mục: {spec.sha256}, tệp tải về: "
                    f"{actual}); tệp đã bị xóa, chưa cài gì"
                )
            target = work / spec.name
            tmp.rename(target)
            downloaded[spec.name] = target
        if entry.kind == "piper":
            onnx = next(p for n, p in downloaded.items() if n.endswith(".onnx"))
            config = downloaded[onnx.name + ".json"]
            return _place_piper(settings, onnx, config, name, force)
        archive = next(iter(downloaded.values()))
        _extract(archive, archive.name, work / "x")
        model_dir = _find_vosk(work / "x")
        if model_dir is None:
            raise InstallError(f"{name}: trong tệp nén không có mô hình Vosk (thư mục am/ hay conf/)")
        return _place_vosk(settings, model_dir, name, force)
    finally:
        shutil.rmtree(work, ignore_errors=True)
