"""console.edit.path: the one edit path (propose -> check -> history -> atomic replace -> reload -> audit)."""

from __future__ import annotations

import os
import stat

import pytest

from console.edit.history import digest, list_versions
from console.edit.path import Change, EditPath, RestoreRefused


class FakeActor:
    """Records what would go to the audit log."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str]] = []

    def record(self, action: str, target: str = "", detail: str = "") -> None:
        self.entries.append((action, target, detail))


class Refused(Exception):
    pass


def accept(_tmp) -> None:
    return None


def refuse(_tmp) -> None:
    raise Refused("no")


@pytest.fixture
def setup(tmp_path):
    path = tmp_path / "config" / "prompts.yaml"
    path.parent.mkdir()
    path.write_bytes(b"greeting: old\n")
    reloads: list[int] = []
    edits = EditPath(
        tmp_path / "history",
        edit_action="edit_prompt",
        restore_action="restore_prompt",
        prefix="text-",
        what="tệp lời nhắc",
        on_change=lambda: reloads.append(1),
    )
    return path, edits, reloads


def _change(path, text, check=accept, note="“old” → “new”"):
    return Change(path, path.read_bytes(), text, check, "prompt:greeting", note, "value")


def _leftovers(directory) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".")]


def test_a_change_is_checked_kept_replaced_reloaded_and_audited(setup):
    path, edits, reloads = setup
    path.chmod(0o640)
    inode = path.stat().st_ino
    seen = []
    actor = FakeActor()

    def check(tmp):
        seen.append((tmp.parent, tmp.read_text(encoding="utf-8"), path.read_bytes()))

    applied = edits.apply(lambda: _change(path, "greeting: new\n", check), actor)
    # The check saw the candidate next to the file while the file was still the old one.
    assert seen == [(path.parent, "greeting: new\n", b"greeting: old\n")]
    assert path.read_bytes() == b"greeting: new\n" and path.stat().st_ino != inode  # renamed over it
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert applied.written and applied.change.value == "value"
    assert applied.history is not None and applied.history.read_bytes() == b"greeting: old\n"
    assert [v.path for v in list_versions(edits.history_dir, path, "text-")] == [applied.history]
    assert reloads == [1]
    assert actor.entries == [("edit_prompt", "prompt:greeting", "prompts.yaml: “old” → “new”")]
    assert _leftovers(path.parent) == []


def test_a_refused_check_writes_nothing(setup):
    path, edits, reloads = setup
    actor = FakeActor()
    with pytest.raises(Refused):
        edits.apply(lambda: _change(path, "greeting: new\n", refuse), actor)
    assert path.read_bytes() == b"greeting: old\n"
    assert not edits.history_dir.exists() and reloads == [] and actor.entries == []
    assert _leftovers(path.parent) == []


def test_no_difference_writes_nothing(setup):
    path, edits, reloads = setup
    actor = FakeActor()
    applied = edits.apply(lambda: _change(path, None), actor)
    assert not applied.written and applied.history is None
    assert path.read_bytes() == b"greeting: old\n"
    assert not edits.history_dir.exists() and reloads == [] and actor.entries == []


def test_a_refusal_while_proposing_passes_through_and_frees_the_lock(setup):
    path, edits, _reloads = setup

    def propose():
        assert edits.lock.locked()  # the editor reads and compares under the lock
        raise Refused("stale page")

    with pytest.raises(Refused):
        edits.apply(propose)
    assert not edits.lock.locked()
    assert edits.apply(lambda: _change(path, "greeting: new\n")).written  # no actor: nothing audited


def test_restoring_puts_a_kept_version_back_and_is_itself_undoable(setup):
    path, edits, reloads = setup
    first = edits.apply(lambda: _change(path, "greeting: new\n"))
    assert first.history is not None
    actor = FakeActor()
    current = digest(path.read_bytes())
    applied = edits.apply(
        lambda: edits.restoring(path, first.history.name, current, accept, "prompts"), actor
    )
    assert path.read_bytes() == b"greeting: old\n"
    assert applied.change.restore and applied.change.value == first.history
    assert applied.history is not None and applied.history.read_bytes() == b"greeting: new\n"
    assert actor.entries == [
        (
            "restore_prompt",
            "prompts",
            f"prompts.yaml: {first.history.name} (replaced file kept as {applied.history.name})",
        )
    ]
    assert reloads == [1, 1]
    # The same version again: equal to the file, nothing written, nothing audited.
    again = edits.apply(
        lambda: edits.restoring(path, first.history.name, digest(path.read_bytes()), accept, "prompts"),
        actor,
    )
    assert not again.written and len(actor.entries) == 1 and reloads == [1, 1]


def test_restoring_keeps_bytes_as_they_were(setup):
    path, edits, _reloads = setup
    path.write_bytes(b"\xef\xbb\xbfgreeting: old\r\n")
    first = edits.apply(lambda: _change(path, "greeting: new\n"))
    edits.apply(lambda: edits.restoring(path, first.history.name, "", accept, "prompts"))
    assert path.read_bytes() == b"\xef\xbb\xbfgreeting: old\r\n"


@pytest.mark.parametrize(
    "name",
    [
        "../history/text-prompts-20260101T000000000000.yaml",
        "text-prompts-20260101T000000000000.yaml",  # the pattern, but no such file
        "prompts-20260101T000000000000.yaml",  # without the prefix
        "text-intents-20260101T000000000000.yaml",  # another file's history
        "text-prompts-20261399T000000000000.yaml",  # not a time
        "/etc/passwd",
    ],
)
def test_restoring_only_reaches_kept_versions_of_that_file(setup, name):
    path, edits, _reloads = setup
    edits.history_dir.mkdir()
    (edits.history_dir / "text-intents-20260101T000000000000.yaml").write_bytes(b"x: 1\n")
    (edits.history_dir / "prompts-20260101T000000000000.yaml").write_bytes(b"x: 1\n")
    with pytest.raises(RestoreRefused) as info:
        edits.apply(lambda: edits.restoring(path, name, "", accept, "prompts"))
    assert info.value.kind == "no_version" and "tệp lời nhắc" in info.value.message
    assert path.read_bytes() == b"greeting: old\n"


def test_restoring_a_symlink_is_refused(setup, tmp_path):
    path, edits, _reloads = setup
    edits.history_dir.mkdir()
    secret = tmp_path / "secret.yaml"
    secret.write_bytes(b"token: 1\n")
    os.symlink(secret, edits.history_dir / "text-prompts-20260101T000000000000.yaml")
    with pytest.raises(RestoreRefused) as info:
        edits.apply(
            lambda: edits.restoring(path, "text-prompts-20260101T000000000000.yaml", "", accept, "prompts")
        )
    assert info.value.kind == "no_version"


def test_restoring_over_a_file_changed_since_the_page_was_opened_is_refused(setup):
    path, edits, reloads = setup
    first = edits.apply(lambda: _change(path, "greeting: new\n"))
    stale = digest(b"greeting: something else\n")
    with pytest.raises(RestoreRefused) as info:
        edits.apply(lambda: edits.restoring(path, first.history.name, stale, accept, "prompts"))
    assert info.value.kind == "conflict" and path.read_bytes() == b"greeting: new\n"
    assert reloads == [1]


def test_restoring_checks_the_version_like_an_edit(setup):
    path, edits, _reloads = setup
    first = edits.apply(lambda: _change(path, "greeting: new\n"))
    kept = len(list(edits.history_dir.iterdir()))
    with pytest.raises(Refused):
        edits.apply(lambda: edits.restoring(path, first.history.name, "", refuse, "prompts"))
    first.history.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(RestoreRefused) as info:
        edits.apply(lambda: edits.restoring(path, first.history.name, "", accept, "prompts"))
    assert info.value.kind == "check"
    assert path.read_bytes() == b"greeting: new\n" and len(list(edits.history_dir.iterdir())) == kept
