"""The systemd units `hotline service-units` renders: valid for systemd-analyze, supervised, hardened."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.settings import load_settings
from hotline.units import render_units

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).with_name("hotline"))
ME = pwd.getpwuid(os.getuid()).pw_name


def _settings(tmp_path, **env):
    return load_settings(None, env={**os.environ, "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"), **env})


def _verify(paths: list[Path]) -> subprocess.CompletedProcess:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is installed by `make test` (package systemd)"
    return subprocess.run([analyze, "verify", *map(str, paths)], capture_output=True, text=True, timeout=60)


def test_rendered_units_pass_systemd_analyze_and_a_broken_one_does_not(tmp_path):
    (tmp_path / "var").mkdir()
    out = tmp_path / "units"
    out.mkdir()
    made = subprocess.run(
        [HOTLINE, "service-units", "--user", ME, "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    units = sorted(out.glob("*.service"))
    assert [u.name for u in units] == ["hotline-asterisk.service", "hotline-web.service", "hotline.service"]
    checked = _verify(units)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked.stderr
    broken = out / "hotline.service"  # the check is real: a typo is reported, a missing program fails
    broken.write_text(broken.read_text().replace("Type=notify", "Type=notifyy"))
    assert "Failed to parse service type" in _verify([broken]).stderr
    broken.write_text(broken.read_text().replace(HOTLINE, HOTLINE + "-missing"))
    assert _verify([broken]).returncode != 0


def test_the_hotline_unit_is_supervised_hardened_and_needs_asterisk(tmp_path):
    units = render_units(_settings(tmp_path), ME)
    hotline = units["hotline.service"]
    for line in (
        "Type=notify",
        "Restart=always",
        "KillMode=mixed",
        "Requires=hotline-asterisk.service",
        f"ExecStart={HOTLINE} --config {ROOT / 'config' / 'hotline.yaml'} run --no-web",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        f"ReadWritePaths={(tmp_path / 'var').resolve()} ",
        "CapabilityBoundingSet=\n",
        "UMask=0077",
        f"User={ME}",
    ):
        assert line in hotline, line
    assert "serve" in units["hotline-web.service"] and "asterisk up" in units["hotline-asterisk.service"]


def test_asterisk_elsewhere_means_no_asterisk_unit(tmp_path):
    units = render_units(_settings(tmp_path, HOTLINE_IVR__ASTERISK__MODE="external"), ME)
    assert "hotline-asterisk.service" not in units
    assert "Requires=" not in units["hotline.service"]


def test_an_unknown_user_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no such user: nobody-here"):
        render_units(_settings(tmp_path), "nobody-here")


def test_jobs_on_postgresql_add_a_job_worker_unit_that_passes_systemd_analyze(tmp_path):
    (tmp_path / "var").mkdir()
    assert "hotline-jobs.service" not in render_units(_settings(tmp_path), ME)  # SQLite: in-process
    pg = _settings(tmp_path, HOTLINE_DATABASE__URL="postgresql+psycopg://hotline:pw@10.0.0.5/hotline")
    jobs = render_units(pg, ME)["hotline-jobs.service"]
    assert f"ExecStart={HOTLINE} --config {ROOT / 'config' / 'hotline.yaml'} jobs run" in jobs
    assert "NoNewPrivileges=yes" in jobs and "Requires=" not in jobs  # no Asterisk needed
    unit = tmp_path / "hotline-jobs.service"
    unit.write_text(jobs)
    checked = _verify([unit])
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked.stderr


def test_outbound_mode_renders_call_workers_and_haproxy_that_pass_systemd_analyze(tmp_path):
    (tmp_path / "var").mkdir()
    units = render_units(_settings(tmp_path, HOTLINE_IVR__WORKERS__ARI_MODE="outbound"), ME)
    assert "hotline.service" not in units  # its inbound connection would take every call
    worker, haproxy = units["hotline-worker@.service"], units["hotline-haproxy.service"]
    assert "Environment=HOTLINE_IVR__WORKERS__LISTEN_PORT=%i" in worker and " worker\n" in worker
    assert "TimeoutStopSec=630" in worker and "KillMode=mixed" in worker  # drain_seconds 600 + 30
    assert f"haproxy-config --out {tmp_path / 'var'}/haproxy.cfg" in haproxy and " -Ws -f " in haproxy
    (tmp_path / "hotline-worker@8094.service").write_text(worker)  # an instance, as systemd names it
    (tmp_path / "hotline-haproxy.service").write_text(haproxy)
    checked = _verify([tmp_path / "hotline-worker@8094.service", tmp_path / "hotline-haproxy.service"])
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), checked.stderr


def test_directories_on_a_shared_mount_are_writable_in_the_units(tmp_path):
    """Recordings, review audio, prompt recordings and radio segments on a share outside the data
    directory: the hardened units may write there (and start while the mount is missing: "-")."""
    (tmp_path / "var").mkdir()
    share = tmp_path / "shared"
    settings = _settings(
        tmp_path,
        HOTLINE_IVR__RECORDINGS_DIR=str(share / "recordings"),
        HOTLINE_IVR__REVIEW__AUDIO_DIR=str(share / "review-audio"),
        HOTLINE_IVR__PROMPTS_DIR=str(share / "prompts"),
        HOTLINE_BROADCAST__STORAGE_DIR=str(share / "broadcast"),
    )
    unit = render_units(settings, ME)["hotline-web.service"]
    line = next(x for x in unit.splitlines() if x.startswith("ReadWritePaths="))
    for name in ("recordings", "review-audio", "prompts", "broadcast"):
        assert f" -{(share / name).resolve()}" in line, line
    out = tmp_path / "units"
    out.mkdir()
    (out / "hotline-web.service").write_text(unit)
    checked = _verify([out / "hotline-web.service"])
    assert checked.returncode == 0, checked.stderr
    # By default they are under the data directory (the checkout's prompt recordings aside).
    default = render_units(_settings(tmp_path), ME)["hotline-web.service"]
    assert str(share) not in default
