"""Atomic writes: readers see the old file or the new one, and a failure names the file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from feedkit.errors import OutputError
from feedkit.output import write_atomic, write_if_changed


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    """The new bytes replace the old, readable by a web server, with no temporary file left."""
    target = tmp_path / "deep" / "feed.xml"
    write_atomic(target, b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [path.name for path in target.parent.iterdir()] == ["feed.xml"]


def test_failed_replace_keeps_nothing_half_written(tmp_path: Path) -> None:
    """When the rename fails, the temporary file is removed and the error names the target."""
    target = tmp_path / "feed.xml"
    target.mkdir()  # a folder where the file should go: os.replace must fail
    with pytest.raises(OutputError) as caught:
        write_atomic(target, b"data")
    assert str(caught.value).startswith(f"{target}: cannot be written (")
    assert [path.name for path in tmp_path.iterdir()] == ["feed.xml"]
    assert target.is_dir()


def test_write_if_changed_leaves_identical_file_alone(tmp_path: Path) -> None:
    """Identical bytes are not rewritten, so the file's mtime (and HTTP caches) stay valid."""
    target = tmp_path / "feed.xml"
    assert write_if_changed(target, b"same") is True
    before = target.stat().st_mtime_ns
    assert write_if_changed(target, b"same") is False
    assert target.stat().st_mtime_ns == before
    assert write_if_changed(target, b"different") is True
    assert target.read_bytes() == b"different"
