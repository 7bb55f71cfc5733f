"""Atomic file writes: a reader or web server sees the old file or the new one, never half of one.

Each file is written to a temporary name in its own folder, flushed, fsynced and renamed.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

from feedkit.errors import OutputError


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step; raise OutputError naming the file on failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise OutputError(
            f"{path.parent}: cannot write here ({exc.strerror})", _OUTPUT_HINT
        ) from exc
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).chmod(0o644)  # mkstemp makes 0600 files; feeds are meant to be served
        Path(temporary).replace(path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot be written ({exc.strerror})", _OUTPUT_HINT) from exc


# What write_atomic's mkstemp names look like: '.feed.xml.' + eight random characters + '.tmp'.
_TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
STALE_AFTER_SECONDS = 10 * 60  # far longer than any one write: a file this old lost its writer


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete write_atomic's temporary files that a killed process left in `folder` and below.

    Only feedkit's own naming, and only files older than STALE_AFTER_SECONDS, so that a file
    another process is writing right now stays. Symbolic links are not followed.
    """
    cutoff = time.time() - STALE_AFTER_SECONDS
    removed: list[Path] = []
    for directory, _folders, names in os.walk(folder):
        for name in names:
            path = Path(directory, name)
            if _TEMPORARY_NAME.fullmatch(name) and _is_stale(path, cutoff):
                with contextlib.suppress(OSError):  # gone already, or not ours to remove
                    path.unlink()
                    removed.append(path)
    return removed


def _is_stale(path: Path, cutoff: float) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write only when the bytes differ, so an unchanged build leaves files (and mtimes) alone."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


_OUTPUT_HINT = "check that the folder exists, is writable and the disk is not full"


def remove_file(path: Path, *, stop_at: Path) -> None:
    """Delete a file, then each folder above it that it left empty, up to (not including)
    `stop_at`."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be removed ({exc.strerror})", _OUTPUT_HINT) from exc
    folder = path.parent
    while folder != stop_at and stop_at in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or not ours to remove): leave it
            return
        folder = folder.parent
