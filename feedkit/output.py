"""Atomic file writes: a reader or web server sees the old file or the new one, never half of one.

Each file is written to a temporary name in its own folder, flushed, fsynced and renamed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from feedkit.errors import OutputError


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step; raise OutputError naming the file on failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write here ({exc.strerror})", _OUTPUT_HINT) from exc
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
