"""Atomic writes: readers see the old file or the new one, and a failure names the file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedkit.errors import OutputError
from feedkit.output import (
    STALE_AFTER_SECONDS,
    remove_stale_temporaries,
    write_atomic,
    write_if_changed,
)


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


def make_old(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_stale_temporaries_are_removed_by_name_and_age_only(tmp_path: Path) -> None:
    """Only write_atomic's own names older than the cutoff go; folders and links are left alone."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked_away = elsewhere / ".feed.xml.abcdefgh.tmp"
    public = tmp_path / "public"
    (public / "digests").mkdir(parents=True)
    (public / "away").symlink_to(elsewhere)
    (public / ".atom.xml.qwertyui.tmp").mkdir()  # a folder, whatever its name
    stale = public / "digests" / ".2026-11-20.html.k3j4h5g6.tmp"
    recent = public / ".feed.json.a1s2d3f4.tmp"
    for path in (stale, recent, linked_away):
        path.write_bytes(b"partial")
    make_old(stale, STALE_AFTER_SECONDS + 5)
    make_old(recent, STALE_AFTER_SECONDS - 60)
    make_old(linked_away, STALE_AFTER_SECONDS + 5)
    assert remove_stale_temporaries(public) == [stale]
    folder_named_alike = public / ".atom.xml.qwertyui.tmp"
    assert [recent.exists(), linked_away.exists(), folder_named_alike.is_dir()] == [True] * 3


def test_cleaning_a_missing_folder_does_nothing(tmp_path: Path) -> None:
    """Before the first build there is no output folder, and nothing to clean."""
    assert remove_stale_temporaries(tmp_path / "public") == []


def test_a_write_killed_before_its_rename_leaves_what_the_cleaner_removes(tmp_path: Path) -> None:
    """The temporary file of a process killed mid-write has the name the cleaner looks for."""
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from feedkit.output import write_atomic\n"
        "Path.replace = lambda self, target: os._exit(9)  # dies before the rename\n"
        "write_atomic(Path(sys.argv[1]), b'partial')\n"
    )
    target = tmp_path / "feed.xml"
    killed = subprocess.run([sys.executable, "-c", script, str(target)], check=False)
    assert killed.returncode == 9
    (leftover,) = tmp_path.iterdir()
    make_old(leftover, STALE_AFTER_SECONDS + 5)
    assert remove_stale_temporaries(tmp_path) == [leftover]
