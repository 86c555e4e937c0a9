"""`hotline intents check|match|eval|replay` end to end, as an operator runs them.

`check` and `replay` run as subprocesses, proving the command line itself; the other checks run the same
commands in this process (`hotline_in_process`), without seconds of start-up each.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.intents.conftest import CASES, ROOT
from tests.support import hotline_in_process

HOTLINE = [sys.executable, "-c", "from hotline.cli import main; main()"]


def run_subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HOTLINE_CONFIG", None)
    return subprocess.run([*HOTLINE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """`hotline ARGS` in this process, with the default configuration file."""
    return hotline_in_process(*args, env={"HOTLINE_CONFIG": ""})


def assert_clean_failure(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc.stderr


def test_check_ok():
    proc = run_subprocess("intents", "check")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: ") and " intents, " in proc.stdout


def test_match_plain_and_json():
    proc = run("intents", "match", "dạ cho em hỏi làm giấy khai sinh cho con ở mô")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("intent: birth_registration")
    assert "civil_status.yaml:" in proc.stdout and "keywords: " in proc.stdout
    proc = run("intents", "match", "giá lợn hơi hôm nay", "--json")
    d = json.loads(proc.stdout)
    assert d["intent"] is None and d["clarify"] is False
    assert [r["code"] for r in d["reasons"]][-1] == "below_threshold"
    assert set(d) >= {"score", "runner_up", "runner_up_score", "candidate", "text"}


def test_match_bad_text_never_crashes():
    for text in ("", "x" * 5000, "🙂🙂", "ừ à"):
        proc = run("intents", "match", text, "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["intent"] is None


def test_eval_plain_and_json():
    proc = run("intents", "eval", str(CASES / "eval_cases.yaml"))
    assert proc.returncode == 0, proc.stderr
    for line in ("accuracy: ", "out-of-scope rejection: ", "precision", "recall"):
        assert line in proc.stdout
    proc = run("intents", "eval", str(CASES / "dev_cases.yaml"), "--json")
    d = json.loads(proc.stdout)
    assert 0.0 <= d["accuracy"] <= 1.0
    assert set(d["cases"][0]) >= {"text", "expected", "predicted", "score"}
    proc = run("intents", "eval", str(CASES / "dev_cases.yaml"), "--min-accuracy", "1.01")
    assert "below 1.01" in assert_clean_failure(proc)


def test_eval_bad_cases_file(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_text("cases:\n  - {text: 5\n", encoding="utf-8")
    err = assert_clean_failure(run("intents", "eval", str(f)))
    assert f"{f}:" in err
    err = assert_clean_failure(run("intents", "eval", str(tmp_path / "missing.yaml")))
    assert "missing.yaml: file not found" in err


def test_check_missing_directory(tmp_path):
    err = assert_clean_failure(run("intents", "check", "--config", str(tmp_path / "nope")))
    assert "catalog directory not found" in err


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("intents:\n  - id: x\n\ttitle: y\n", ":3: found character '\\t'"),
        ("intents:\n  - id: x\n    id: y\n", ':3: found duplicate key "id"'),
        (
            "intents:\n  - id: x\n    title: tiêu đề\n    answer: Trả lời.\n    action: dance\n"
            "    examples: [một hai ba, bốn năm sáu, bảy tám chín]\n",
            ":5: intents[0].action: Input should be 'transfer'",
        ),
        ("intents:\n  - id: x\n    title: [1, 2]\n", ":3: intents[0].title: Input should be a valid string"),
    ],
    ids=["tab", "duplicate-key", "unknown-action", "wrong-type"],
)
def test_check_bad_yaml(catalog_copy, content, expect):
    bad = catalog_copy / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    err = assert_clean_failure(run("intents", "check", "--config", str(catalog_copy)))
    assert f"{bad}{expect}" in err, err
    assert "problem" in err.splitlines()[-1]


def test_check_semantic_problems_all_listed(catalog_copy):
    bad = catalog_copy / "bad.yaml"
    long = "Bạn mang thẻ căn cước đến ủy ban xã để làm thủ tục. " * 12
    bad.write_text(
        "intents:\n"
        "  - id: x\n    title: tiêu đề\n"
        f"    answer: {long}\n"
        '    digit: "2"\n'
        "    examples:\n      - nói lại đi\n      - một hai ba\n      - bốn năm sáu\n",
        encoding="utf-8",
    )
    err = assert_clean_failure(run("intents", "check", "--config", str(catalog_copy)))
    assert f"{bad}:4: answer: about" in err  # too long to speak
    assert re.search(rf"welfare_land\.yaml:\d+: digit: key '2' already used by intent 'x' \({bad}:5\)", err)
    assert "examples[0]: 'nói lại đi' collides" in err
    assert err.splitlines()[-1] == "error: 3 problems in the intent catalog"


def test_match_with_broken_catalog_is_an_error_not_a_traceback(catalog_copy):
    (catalog_copy / "bad.yaml").write_bytes(b"\xef\xbb\xbfintents: [\n")
    err = assert_clean_failure(run("intents", "match", "xin chào", "--config", str(catalog_copy)))
    assert err.startswith("error: invalid intent catalog") and "bad.yaml:" in err


def test_replay_shows_what_a_draft_catalog_changes_on_recent_callers_words(tmp_path):
    """Real database file, real catalogs: a phrasing added to the draft is newly understood."""
    import shutil
    from datetime import timedelta

    from core.db import engine_for, session_factory
    from hotline.db import upgrade
    from hotline.settings import load_settings
    from ivr.models import Call, Turn
    from ivr.store import utcnow

    env = {"HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var")}
    settings = load_settings(ROOT / "config" / "hotline.yaml", env={**os.environ, **env})
    upgrade(settings.database_url)
    engine = engine_for(settings)
    now = utcnow()  # relative to now: the command's window is the last --days days
    new_phrase = "con bò nhà tôi đi lạc sang xã bên"
    with session_factory(engine)() as s:
        call = Call(channel_id="c-replay", started_at=now, caller_masked="")
        s.add(call)
        s.flush()
        said = [new_phrase, "tôi muốn phản ánh", new_phrase, "giá lợn hơi hôm nay"]
        for seq, text in enumerate(said):
            s.add(Turn(call_id=call.id, seq=seq, at=now - timedelta(hours=1), kind="speech", transcript=text))
        # Older than the window: not replayed.
        s.add(Turn(call_id=call.id, seq=9, at=now - timedelta(days=30), kind="speech", transcript="việc cũ"))
        s.commit()
    engine.dispose()
    draft = tmp_path / "draft"
    shutil.copytree(ROOT / "config" / "intents", draft)
    contact = draft / "contact.yaml"
    contact.write_text(
        contact.read_text(encoding="utf-8").replace(
            "      - tôi muốn phản ánh\n", f"      - tôi muốn phản ánh\n      - {new_phrase}\n", 1
        ),
        encoding="utf-8",
    )

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full_env.pop("HOTLINE_CONFIG", None)
    proc = subprocess.run(
        [*HOTLINE, "intents", "replay", "--days", "7", "--catalog", str(draft)],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Đã thử lại 3 câu nói khác nhau" in out  # repeats once, the old turn left out
    assert "Mới hiểu được: 1" in out
    assert f"“{new_phrase}”: không hiểu → “phản ánh, kiến nghị”" in out
    assert "Mới sai (trước hiểu, nay không hiểu): 0" in out
    assert "feedback" not in out  # topics by their Vietnamese titles
