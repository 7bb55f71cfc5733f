"""The SQLite state database: opening it (refusing one that was lost or is too new), migrating
it, transactions and the meta table. Queries live beside it, one module per capability.

sqlite3 errors are translated to StateError here, once, so no other module sees them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedkit.config import Config
from feedkit.errors import StateError
from feedkit.store.migrations import MIGRATIONS


class Store:
    """One open state database; use as a context manager so it is always closed.

    `history` names files and folders whose contents show that feedkit ran here before: a blank
    database beside them means the real one was lost, and it is refused rather than started afresh.
    A read-only store cannot write at all, so a page or a preview never waits on a running send.
    """

    def __init__(
        self, path: Path, *, history: tuple[Path, ...] = (), readonly: bool = False
    ) -> None:
        self.path = path
        self.readonly = readonly
        if readonly:
            self.db = _connect_readonly(path)
            return
        existed = path.exists()
        self.db = _connect(path)
        try:
            self._refuse_if_lost(history, existed=existed)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as exc:
            self.db.close()
            raise StateError(
                f"{path}: cannot open the state database ({exc})", _STATE_HINT
            ) from exc
        except BaseException:
            self.db.close()
            raise

    def _refuse_if_lost(self, history: tuple[Path, ...], *, existed: bool) -> None:
        if not history or self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return
        evidence = [str(place) for place in history if _has_files(place)]
        if not evidence:
            return
        if not existed:
            self.path.unlink(missing_ok=True)
        raise StateError(
            f"{self.path}: the state database is missing or empty, but {' and '.join(evidence)} "
            "show earlier runs (its subscribers, unsubscribes and digest history would be lost)",
            "restore it from a backup, or run 'feedkit --new-state ...' to start afresh",
        )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; any sqlite3 error becomes a StateError."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise state_error(self.path, exc) from exc

    def _migrate(self) -> None:
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT "
            "NULL)"
        )
        applied = self.applied_migrations()
        for name, migrate in MIGRATIONS:
            if name in applied:
                continue
            with self.transaction() as db:
                migrate(db)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, utc_text()))

    def applied_migrations(self) -> set[str]:
        """The migrations this database has had; refused if it has one this feedkit does not
        know."""
        applied = {str(row[0]) for row in self.db.execute("SELECT name FROM migrations")}
        unknown = applied - {name for name, _ in MIGRATIONS}
        if unknown:
            raise StateError(
                f"{self.path}: was written by a newer feedkit (it has "
                f"{', '.join(sorted(unknown))})",
                "upgrade feedkit, or restore a backup made by this version",
            )
        return applied

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- helpers ------------------------------------------------------------------------------

    def query_one(self, sql: str, parameters: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self.query_all(sql, parameters)
        return rows[0] if rows else None

    def query_all(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self.db.execute(sql, parameters))
        except sqlite3.Error as exc:
            raise state_error(self.path, exc) from exc


_STATE_HINT = (
    "check that its folder is writable; if the file is damaged, move it aside and run again"
)
_FOLDER_HINT = "check that its folder exists and is writable"
_BUSY_HINT = "another feedkit command was changing the same data at that moment; run it again"


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(path, timeout=30, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        message = f"{path}: cannot open the state database ({exc})"
        raise StateError(message, _FOLDER_HINT) from exc


def _connect_readonly(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        message = f"{path}: cannot open the state database ({exc})"
        raise StateError(message, _STATE_HINT) from exc


def open_store(config: Config, *, readonly: bool = False) -> Store:
    """The site's state database, refused if it was lost while the site's outputs remain.

    `readonly` opens it for reading only, when it is already there and up to date; otherwise (a
    first run, or the first after an upgrade) it is opened as usual, to be made or migrated.
    """
    if readonly:
        current = _readonly_if_current(config.database_path)
        if current is not None:
            return current
    return Store(config.database_path, history=history_places(config))


def _readonly_if_current(path: Path) -> Store | None:
    try:
        if path.stat().st_size == 0:
            return None
    except OSError:
        return None
    store = Store(path, readonly=True)
    try:
        complete = store.applied_migrations() >= {name for name, _ in MIGRATIONS}
    except sqlite3.Error:  # no migrations table yet
        complete = False
    except BaseException:
        store.db.close()
        raise
    if complete:
        return store
    store.db.close()
    return None


def history_places(config: Config) -> tuple[Path, ...]:
    """What feedkit leaves behind: the site's feeds, the digest archive, the outbox."""
    feeds = tuple(config.output_dir / name for name in ("feed.xml", "atom.xml", "feed.json"))
    return (*feeds, config.output_dir / "digests", config.outbox_dir)


def create_new_state(config: Config) -> None:
    """Accept a blank state database on purpose (the operator's `--new-state`)."""
    with Store(config.database_path):
        pass


def state_error(path: Path, exc: sqlite3.Error) -> StateError:
    """A sqlite3 error as a user sees it: a clash with another command is not a damaged file."""
    busy = isinstance(exc, sqlite3.IntegrityError) or "locked" in str(exc)
    return StateError(f"{path}: {exc}", _BUSY_HINT if busy else _STATE_HINT)


def _has_files(place: Path) -> bool:
    """A file that exists, or a folder holding at least one file."""
    try:
        if place.is_file():
            return True
        return place.is_dir() and any(entry.is_file() for entry in place.iterdir())
    except OSError:
        return False


def utc_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
