"""core.filestamp: one stat() says whether a file or a directory of files changed."""

from __future__ import annotations

import os

from core.filestamp import FileStamp, file_stamp, tree_stamp


def _same_time(path, like) -> None:
    """Give `path` the modification time of `like`: an edit within one mtime tick."""
    st = os.stat(like)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_file_stamp_holds_size_time_and_inode(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_bytes(b"abc")
    st = path.stat()
    assert file_stamp(path) == FileStamp(3, st.st_mtime_ns, st.st_ino)
    assert file_stamp(str(path)) == file_stamp(path)
    assert file_stamp(path) == file_stamp(path)  # nothing changed: equal


def test_missing_file_has_no_stamp(tmp_path):
    assert file_stamp(tmp_path / "missing.yaml") is None


def test_size_and_time_changes_are_seen(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_bytes(b"abc")
    before = file_stamp(path)
    path.write_bytes(b"abcd")
    _same_time(path, path)
    assert file_stamp(path) != before  # size
    before = file_stamp(path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert file_stamp(path) != before  # time alone


def test_atomic_replace_within_one_mtime_tick_is_seen(tmp_path):
    """Same size, same time, new file renamed over the old one: only the inode tells."""
    path = tmp_path / "prompts.yaml"
    path.write_bytes(b"greeting: a\n")
    before = file_stamp(path)
    tmp = tmp_path / ".prompts.yaml.x.tmp"
    tmp.write_bytes(b"greeting: b\n")
    _same_time(tmp, path)
    os.replace(tmp, path)
    after = file_stamp(path)
    assert after is not None and before is not None
    assert (after.size, after.mtime_ns) == (before.size, before.mtime_ns)
    assert after != before


def test_tree_stamp_covers_files_and_directory_entries(tmp_path):
    catalog = tmp_path / "intents"
    catalog.mkdir()
    (catalog / "b.yaml").write_text("b", encoding="utf-8")
    (catalog / "a.yml").write_text("a", encoding="utf-8")
    (catalog / "notes.txt").write_text("not part of it", encoding="utf-8")
    (catalog / ".a.yaml.123.tmp").write_text("an editor's candidate", encoding="utf-8")
    (catalog / ".hidden.yaml").write_text("hidden", encoding="utf-8")
    (catalog / "sub.yaml").mkdir()  # a directory with a matching name is not a file
    dialect = tmp_path / "dialect.yaml"
    dialect.write_text("d", encoding="utf-8")
    stamp = tree_stamp([catalog, dialect])
    assert [name for name, _ in stamp] == [str(catalog / "a.yml"), str(catalog / "b.yaml"), str(dialect)]
    assert stamp == tree_stamp([catalog, dialect])
    assert all(isinstance(s, FileStamp) for _, s in stamp)


def test_tree_stamp_sees_edit_add_delete_and_replace(tmp_path):
    catalog = tmp_path / "intents"
    catalog.mkdir()
    a = catalog / "a.yaml"
    a.write_text("a: 1\n", encoding="utf-8")
    stamps = [tree_stamp([catalog])]

    (catalog / "b.yaml").write_text("b: 1\n", encoding="utf-8")  # added
    stamps.append(tree_stamp([catalog]))
    (catalog / "b.yaml").unlink()  # deleted again
    stamps.append(tree_stamp([catalog]))
    assert stamps[2] == stamps[0]

    tmp = catalog / ".a.yaml.tmp"
    tmp.write_text("a: 2\n", encoding="utf-8")
    _same_time(tmp, a)
    os.replace(tmp, a)  # replaced within one tick, same size
    stamps.append(tree_stamp([catalog]))
    assert len({stamps[0], stamps[1], stamps[3]}) == 3

    (catalog / "notes.txt").write_text("ignored", encoding="utf-8")
    assert tree_stamp([catalog]) == stamps[3]


def test_tree_stamp_leaves_missing_paths_out(tmp_path):
    dialect = tmp_path / "dialect.yaml"
    assert tree_stamp([tmp_path / "no-such-dir", dialect]) == ()
    dialect.write_text("d", encoding="utf-8")
    assert [name for name, _ in tree_stamp([tmp_path / "no-such-dir", dialect])] == [str(dialect)]


def test_tree_stamp_suffixes_are_chosen_by_the_caller(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "a.yaml").write_text("a", encoding="utf-8")
    assert [name for name, _ in tree_stamp([tmp_path], suffixes=(".wav",))] == [str(tmp_path / "a.wav")]
