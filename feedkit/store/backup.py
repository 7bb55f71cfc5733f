"""Copies of the whole state database through SQLite's online backup: consistent while a send
writes to it, and a restore goes through SQLite's own locking rather than under a file's feet.

A backup is written beside its target and renamed into place once checked, so a backup that
stopped half-way never looks complete; it holds subscribers' addresses, so only its owner may
read it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from feedkit.errors import OutputError, StateError
from feedkit.monitoring import LockHolder
from feedkit.store import locks
from feedkit.store.db import Store
from feedkit.store.migrations import MIGRATIONS

_BACKUP_HINT = "give the path of a file made by 'feedkit backup'"
_DAMAGED_HINT = "move it aside and restore the latest good backup"


def backup_database(source: Path, target: Path) -> int:
    """Copy the database at `source` to `target` (replacing it); the copy's size in bytes."""
    if not source.is_file():
        raise StateError(f"{source}: no state database here to back up", "run feedkit here first")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with closing(_open(source)) as database, closing(_open(partial, new=True)) as copy:
            database.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_integrity(copy, source, _DAMAGED_HINT)
        _settle(partial, target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StateError(f"{source}: cannot be backed up ({exc})", _DAMAGED_HINT) from exc
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _unwritable(target, exc) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def backup_migrations(backup: Path) -> frozenset[str]:
    """The migrations a backup file has had, once it is checked to be a whole feedkit database
    that this feedkit can open."""
    if not backup.is_file():
        raise StateError(f"{backup}: no such file", _BACKUP_HINT)
    try:
        with closing(_open_readonly(backup)) as db:
            _check_integrity(db, backup, _BACKUP_HINT)
            applied = frozenset(str(row[0]) for row in db.execute("SELECT name FROM migrations"))
    except sqlite3.Error as exc:
        raise StateError(f"{backup}: not a feedkit state database ({exc})", _BACKUP_HINT) from exc
    unknown = applied - {name for name, _ in MIGRATIONS}
    if unknown:
        raise StateError(
            f"{backup}: was made by a newer feedkit (it has {', '.join(sorted(unknown))})",
            "upgrade feedkit before restoring it",
        )
    return applied


def database_migrations(path: Path) -> frozenset[str]:
    """The migrations the database at `path` has had; none if there is no database there."""
    if not path.is_file() or path.stat().st_size == 0:
        return frozenset()
    try:
        with closing(_open(path)) as db:
            return frozenset(str(row[0]) for row in db.execute("SELECT name FROM migrations"))
    except sqlite3.Error:
        return frozenset()  # damaged or not feedkit's: nothing in it is worth refusing over


def sender_of(path: Path) -> LockHolder | None:
    """Who is sending a digest from the database at `path` right now, if anyone."""
    if "0003_newsletter" not in database_migrations(path):
        return None  # no send lock in it yet
    with Store(path, readonly=True) as store:
        return locks.current_holder(store)


def restore_database(backup: Path, target: Path, keep_copy_at: Path | None) -> None:
    """Write the backup's pages into the database at `target`, first copying what was there to
    `keep_copy_at` (when given)."""
    if keep_copy_at is not None:
        backup_database(target, keep_copy_at)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(_open_readonly(backup)) as source, closing(_open(target)) as db:
            source.backup(db)
            _check_integrity(db, target, "restore it again")
    except (sqlite3.Error, OSError) as exc:
        raise StateError(f"{target}: cannot be restored from {backup} ({exc})") from exc


def _open(path: Path, *, new: bool = False) -> sqlite3.Connection:
    if new:
        path.unlink(missing_ok=True)
        # Made unreadable to others before a byte goes in: it will hold subscribers' addresses.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    return sqlite3.connect(path, timeout=30, isolation_level=None)


def _open_readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _check_integrity(db: sqlite3.Connection, path: Path, hint: str) -> None:
    found = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
    if found != ["ok"]:
        raise StateError(f"{path}: the database is damaged ({'; '.join(found[:3])})", hint)


def _settle(partial: Path, target: Path) -> None:
    """Make the checked copy durable, then put it in place in one step."""
    try:
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(target)
    except OSError as exc:
        raise _unwritable(target, exc) from exc


def _unwritable(target: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"{target}: the backup cannot be written ({exc.strerror or exc})",
        "check that its folder exists and is writable",
    )
