"""Communes and wards of the province, from the maintained `vietnam-provinces` dataset (2025 units)."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass

from core.errors import HotlineError
from voice.text import fold_tones

logger = logging.getLogger(__name__)


class UnknownCommune(HotlineError):
    """A commune name that is not a unit of the province; the message suggests close matches."""

    code = "unknown_commune"


@dataclass(frozen=True, slots=True)
class Commune:
    code: int  # national administrative unit code
    name: str  # full name, e.g. "Xã Anh Sơn" or "Phường Cửa Lò"
    kind: str  # "xã", "phường" or "đặc khu"
    slug: str  # URL-safe, stable: "xa-anh-son"

    @property
    def short_name(self) -> str:
        """Name without the unit type: "Anh Sơn"."""
        return self.name.split(" ", 1)[1] if " " in self.name else self.name


def fold(text: str) -> str:
    """Lowercase, tone- and diacritic-insensitive key: "Xã Đô Lương" -> "xa do luong"."""
    return re.sub(r"[^a-z0-9]+", " ", fold_tones(unicodedata.normalize("NFC", text)).lower()).strip()


_TYPE_PREFIXES = ("xa ", "phuong ", "dac khu ", "thi tran ")


def _bare(key: str) -> str:
    for prefix in _TYPE_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


class CommuneIndex:
    """All communes and wards of one province, with exact and tone-insensitive lookup."""

    def __init__(self, province: str, communes: list[Commune], data_version: str) -> None:
        self.province = province
        self.communes = sorted(communes, key=lambda c: fold(c.short_name))
        self.data_version = data_version
        self._by_slug = {c.slug: c for c in communes}
        self._by_code = {c.code: c for c in communes}
        self._by_key: dict[str, list[Commune]] = {}
        for c in communes:
            for key in {fold(c.name), _bare(fold(c.name))}:
                self._by_key.setdefault(key, []).append(c)

    def __len__(self) -> int:
        return len(self.communes)

    def by_slug(self, slug: str) -> Commune | None:
        return self._by_slug.get(slug)

    def by_code(self, code: int) -> Commune | None:
        return self._by_code.get(code)

    def resolve(self, name: str) -> Commune:
        """The commune called `name` (with or without "xã"/"phường", any tone placement, or its slug)."""
        name = (name or "").strip()
        if not name:
            raise UnknownCommune("chưa ghi tên xã, phường")
        if name in self._by_slug:
            return self._by_slug[name]
        if name.isdigit() and int(name) in self._by_code:
            return self._by_code[int(name)]
        key = fold(name)
        # Exact text first (tone marks matter: "Xã Tân An" and "Xã Tân Ân" would differ).
        exact = [
            c
            for c in self._by_key.get(key, []) + self._by_key.get(_bare(key), [])
            if unicodedata.normalize("NFC", name).lower() in (c.name.lower(), c.short_name.lower())
        ]
        if exact:
            return exact[0]
        found = self._by_key.get(key) or self._by_key.get(_bare(key)) or []
        unique = {c.code: c for c in found}
        if len(unique) == 1:
            return next(iter(unique.values()))
        if len(unique) > 1:
            names = ", ".join(sorted(c.name for c in unique.values()))
            raise UnknownCommune(
                f"“{name}” trùng tên nhiều đơn vị của {self.province}: {names}; ghi rõ “xã” hay “phường”"
            )
        hint = self.suggest(name)
        more = f"; có phải: {', '.join(hint)}?" if hint else "; xem danh sách: hotline broadcast communes"
        raise UnknownCommune(f"{self.province} không có xã, phường “{name}”{more}")

    def find_in(self, text: str) -> Commune | None:
        """The one commune a sentence names ("cho tôi gặp tổ công nghệ số xã anh sơn"), tone-insensitive
        (recognizers misplace tones); None when it names none, or two different ones."""
        words = f" {fold(text)} "
        hits = {f" {_bare(fold(c.name))} ": c for c in self.communes}
        hits = {key: c for key, c in hits.items() if key in words}
        # "Anh Sơn Đông" also contains "Anh Sơn": the longer name is the one meant.
        named = [c for key, c in hits.items() if not any(key in other and key != other for other in hits)]
        return named[0] if len(named) == 1 else None

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Closest commune names, tone-insensitive (rapidfuzz)."""
        from rapidfuzz import fuzz, process

        choices = {c.name: _bare(fold(c.name)) for c in self.communes}
        hits = process.extract(_bare(fold(name)), choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
        return [key for _value, _score, key in hits]

    def search(self, query: str) -> list[Commune]:
        """Communes whose name contains the query, tone-insensitive (for the index page)."""
        q = fold(query)
        if not q:
            return list(self.communes)
        return [c for c in self.communes if q in fold(c.name)]


@functools.lru_cache(maxsize=4)
def load_communes(province: str) -> CommuneIndex:
    """Communes and wards of `province` from the installed dataset (cached: it never changes at run time)."""
    import vietnam_provinces as vp

    wanted = fold(province)
    matches = [
        p
        for p in vp.Province.iter_all()
        if _bare(fold(p.name)) in (wanted, _bare(wanted))
        or fold(p.name).removeprefix("tinh ").removeprefix("thanh pho ") == wanted
    ]
    if not matches:
        raise HotlineError(f"province {province!r} is not in the vietnam-provinces dataset", code="config")
    prov = matches[0]
    communes = [
        Commune(
            code=int(w.code.value), name=w.name, kind=w.division_type.value, slug=w.codename.replace("_", "-")
        )
        for w in vp.Ward.iter_by_province(prov.code)
    ]
    version = f"vietnam-provinces {vp.__version__} (data {getattr(vp, '__data_version__', '?')})"
    logger.debug("loaded %d communes of %s from %s", len(communes), prov.name, version)
    return CommuneIndex(prov.name, communes, version)
