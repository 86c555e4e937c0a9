from __future__ import annotations

import pytest

from broadcast.communes import UnknownCommune, fold, load_communes


@pytest.fixture(scope="module")
def index():
    return load_communes("Nghệ An")


def test_dataset_is_after_the_2025_reorganization(index):
    # Two-level government since 1 July 2025: Nghệ An has 130 communes and wards, no districts.
    assert len(index) == 130
    kinds = {c.kind for c in index.communes}
    assert kinds <= {"xã", "phường", "đặc khu"}
    assert sum(c.kind == "phường" for c in index.communes) == 11
    assert "vietnam-provinces" in index.data_version
    assert len({c.slug for c in index.communes}) == 130  # slugs are unique: they are URLs


def test_resolve_accepts_type_tones_slug_and_code(index):
    c = index.resolve("Xã Đô Lương")
    assert index.resolve("Đô Lương") == c
    assert index.resolve("do luong") == c
    assert index.resolve(c.slug) == c
    assert index.resolve(str(c.code)) == c
    # Old and new tone placement are the same commune.
    assert index.resolve("Nhân Hoà") == index.resolve("Nhân Hòa")
    assert index.resolve("Cửa Lò").kind == "phường"


def test_unknown_commune_suggests_close_names(index):
    with pytest.raises(UnknownCommune) as err:
        index.resolve("Đô Lươnh")
    assert "Xã Đô Lương" in str(err.value) and "có phải" in str(err.value)
    with pytest.raises(UnknownCommune):
        index.resolve("Quận Ba Đình")
    with pytest.raises(UnknownCommune):
        index.resolve("")


def test_search_is_tone_insensitive(index):
    names = [c.name for c in index.search("vinh")]
    assert "Phường Trường Vinh" in names and "Phường Vinh Hưng" in names
    assert len(index.search("")) == 130


def test_fold():
    assert fold("Xã Đô Lương") == "xa do luong"
    assert fold("  Hoà–Bình ") == "hoa binh"


def test_unknown_province():
    from core.errors import HotlineError

    with pytest.raises(HotlineError):
        load_communes("Atlantis")
