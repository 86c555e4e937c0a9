"""Offline bundle for a commune: a zip with its current segments, an M3U playlist and a text schedule."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import zipfile
from pathlib import Path

from broadcast.bulletin import PRIORITY_LABELS_VI
from broadcast.communes import Commune
from broadcast.feed import duration_hms
from broadcast.models import Segment
from core.tempname import temp_beside

logger = logging.getLogger(__name__)

PLAYLIST = "danh-sach-phat.m3u"
SCHEDULE = "lich-phat-song.txt"

_WHEN = {
    "emergency": "PHÁT NGAY khi nhận được, nhắc lại theo chỉ đạo",
    "priority": "Phát ưu tiên trong buổi phát gần nhất",
    "normal": "Phát theo lịch phát thường lệ của xã",
}


def member_name(position: int, seg: Segment) -> str:
    stem = seg.key.split("--")[0]
    return f"{position:02d}-{stem}.mp3"


def schedule_text(commune: Commune, province: str, segments: list[Segment]) -> str:
    lines = [f"LỊCH PHÁT SÓNG – {commune.name.upper()}, TỈNH {province.upper()}", ""]
    if not segments:
        lines.append("Hiện chưa có chương trình nào.")
    for i, seg in enumerate(segments, 1):
        lines += [
            f"{i}. {seg.title}",
            f"   Ngày: {seg.bulletin_date:%d/%m/%Y}   Thời lượng: {duration_hms(seg.duration_s)}",
            f"   Mức ưu tiên: {PRIORITY_LABELS_VI.get(seg.priority, seg.priority)}"
            f" – {_WHEN.get(seg.priority, '')}",
            f"   Tệp: {member_name(i, seg)}   Đơn vị cung cấp: {seg.agency}",
        ]
        if seg.expires_at:
            lines.append(f"   Hết hạn phát: {seg.expires_at:%d/%m/%Y}")
        lines.append("")
    return "\r\n".join(lines) + "\r\n"  # CRLF: opens cleanly in Notepad on station PCs


def playlist_text(segments: list[Segment]) -> str:
    lines = ["#EXTM3U"]
    for i, seg in enumerate(segments, 1):
        lines += [f"#EXTINF:{int(round(seg.duration_s))},{seg.title}", member_name(i, seg)]
    return "\n".join(lines) + "\n"


def bundle_path(directory: Path, commune: Commune, segments: list[Segment]) -> Path:
    """Bundle file for exactly these segments (cached: the name changes whenever the content does)."""
    digest = hashlib.sha256("|".join(f"{s.key}:{s.checksum}" for s in segments).encode()).hexdigest()[:16]
    return directory / f"{commune.slug}-{digest}.zip"


def build_bundle(
    directory: Path, segments_dir: Path, commune: Commune, province: str, segments: list[Segment]
) -> Path:
    """Write (atomically) or reuse the zip for these segments; returns its path."""
    path = bundle_path(directory, commune, segments)
    if path.is_file():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for i, seg in enumerate(segments, 1):
                # MP3 is already compressed: store it, do not spend CPU deflating it.
                zf.write(segments_dir / seg.file, member_name(i, seg), compress_type=zipfile.ZIP_STORED)
            zf.writestr(PLAYLIST, playlist_text(segments), compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr(
                SCHEDULE,
                schedule_text(commune, province, segments).encode("utf-8-sig"),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for old in directory.glob(f"{commune.slug}-*.zip"):  # older bundles of this commune
        if old != path:
            old.unlink(missing_ok=True)
    return path


class BundleCache:
    """Bundles built once per catalog change and served from disk, within a byte budget.

    Any visitor may ask for the bundle of any of the province's communes, and each is a copy of that
    commune's segments: bundles are built one at a time, a change of the catalog drops them all (they
    are rebuilt on the next request), and past `budget_bytes` the least recently served go first.
    """

    def __init__(self, directory: Path, segments_dir: Path, province: str, budget_bytes: int) -> None:
        self.directory = directory
        self.segments_dir = segments_dir
        self.province = province
        self.budget_bytes = budget_bytes
        self._lock = threading.Lock()

    def get(self, commune: Commune, segments: list[Segment]) -> Path:
        """The zip of exactly these segments for `commune`: the cached one, or built now."""
        with self._lock:
            path = bundle_path(self.directory, commune, segments)
            if path.is_file():
                os.utime(path)  # mtime = last served: what the budget evicts by
                return path
            built = build_bundle(self.directory, self.segments_dir, commune, self.province, segments)
            logger.info("built the offline bundle %s (%d segments)", built.name, len(segments))
            self._evict(keep=built)
            return built

    def clear(self) -> None:
        """Drop every bundle: called after the catalog changed (publish, delete, prune)."""
        with self._lock:
            for path in self._bundles():
                path.unlink(missing_ok=True)

    def _bundles(self) -> list[Path]:
        return list(self.directory.glob("*.zip")) if self.directory.is_dir() else []

    def _evict(self, keep: Path) -> None:
        entries = []
        for path in self._bundles():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):  # least recently served first
            if total <= self.budget_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size
