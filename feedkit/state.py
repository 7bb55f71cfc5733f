"""The SQLite state database: its schema, its migrations and every query feedkit makes.

sqlite3 errors are translated to StateError here, once, so no other module sees them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedkit.config import Config
from feedkit.errors import StateError
from feedkit.model import Author, FileStamp, Review
from feedkit.store.migrations import MIGRATIONS


class Store:
    """One open state database; use as a context manager so it is always closed.

    `history` names files and folders whose contents show that feedkit ran here before: a blank
    database beside them means the real one was lost, and it is refused rather than started afresh.
    """

    def __init__(self, path: Path, *, history: tuple[Path, ...] = ()) -> None:
        self.path = path
        existed = path.exists()
        self.db = _connect(path)
        try:
            self._refuse_if_lost(history, existed=existed)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as exc:
            self.db.close()
            raise StateError(f"{path}: cannot open the state database ({exc})", _STATE_HINT) from exc
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
        self.db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        applied = {row[0] for row in self.db.execute("SELECT name FROM migrations")}
        unknown = applied - {name for name, _ in MIGRATIONS}
        if unknown:
            raise StateError(
                f"{self.path}: was written by a newer feedkit (it has {', '.join(sorted(unknown))})",
                "upgrade feedkit, or restore a backup made by this version",
            )
        for name, migrate in MIGRATIONS:
            if name in applied:
                continue
            with self.transaction() as db:
                migrate(db)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _utc_text()))

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- stable entry ids ---------------------------------------------------------------------

    def known_entry_ids(self) -> dict[str, str]:
        """The id each source file was first published under."""
        return {
            str(source): str(entry_id) for source, entry_id in self.query_all("SELECT source, entry_id FROM entry_ids")
        }

    def remember_entry_ids(self, new_ids: dict[str, str]) -> None:
        if new_ids:
            with self.transaction() as db:
                rows = [(source, entry_id, _utc_text()) for source, entry_id in new_ids.items()]
                db.executemany("INSERT OR IGNORE INTO entry_ids VALUES (?, ?, ?)", rows)

    # -- rendered bodies ------------------------------------------------------------------------

    def rendered_body(self, source: str, key: str) -> tuple[str, str] | None:
        """A body rendered by an earlier build, if its inputs (the key) are unchanged."""
        row = self.query_one("SELECT html, summary FROM rendered_bodies WHERE source = ? AND key = ?", (source, key))
        return None if row is None else (str(row[0]), str(row[1]))

    def save_rendered_bodies(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        rows = list(rows)
        if rows:
            with self.transaction() as db:
                db.executemany("INSERT OR REPLACE INTO rendered_bodies VALUES (?, ?, ?, ?)", rows)

    # -- output fingerprints ------------------------------------------------------------------

    def output_fingerprints(self) -> dict[str, tuple[str, int]]:
        rows = self.query_all("SELECT path, fingerprint, size FROM outputs")
        return {str(path): (str(fingerprint), int(size)) for path, fingerprint, size in rows}

    def forget_outputs(self, paths: list[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM outputs WHERE path = ?", [(path,) for path in paths])

    def record_outputs(self, outputs: Iterable[tuple[str, str, int]]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", list(outputs))

    # -- helpers ------------------------------------------------------------------------------

    def query_one(self, sql: str, parameters: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self.query_all(sql, parameters)
        return rows[0] if rows else None

    def query_all(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self.db.execute(sql, parameters))
        except sqlite3.Error as exc:
            raise state_error(self.path, exc) from exc


_STATE_HINT = "check that its folder is writable; if the file is damaged, move it aside and run again"
_FOLDER_HINT = "check that its folder exists and is writable"
_BUSY_HINT = "another feedkit command was changing the same data at that moment; run it again"


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(path, timeout=30, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        message = f"{path}: cannot open the state database ({exc})"
        raise StateError(message, _FOLDER_HINT) from exc


def open_store(config: Config) -> Store:
    """The site's state database, refused if it was lost while the site's outputs remain."""
    return Store(config.database_path, history=history_places(config))


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


def _utc_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class _CachedRow:
    size: int
    mtime_ns: int
    content_hash: str
    record: str


class SqliteReviewCache:
    """The build cache: reviews parsed earlier, read once at start and written back in one go.

    Rows are tied to a fingerprint of the settings that shape a parsed review (time zone,
    permalink pattern, feedkit version); a different fingerprint empties the cache.
    """

    def __init__(self, store: Store, fingerprint: str) -> None:
        self.store = store
        self.fingerprint = fingerprint
        self.rows: dict[str, _CachedRow] = {}
        self.changed: dict[str, tuple[FileStamp, Review]] = {}
        self.seen: set[str] = set()
        if store.get_meta("cache_fingerprint") == fingerprint:
            query = "SELECT source, size, mtime_ns, content_hash, record FROM review_cache"
            self.rows = {str(row[0]): _CachedRow(*row[1:]) for row in store.query_all(query)}

    def get(self, stamp: FileStamp) -> Review | None:
        self.seen.add(stamp.source)
        row = self.rows.get(stamp.source)
        if row is None or (row.size, row.mtime_ns) != (stamp.size, stamp.mtime_ns):
            return None
        return review_from_record(stamp.source, row.content_hash, row.record)

    def get_by_hash(self, stamp: FileStamp, content_hash: str) -> Review | None:
        """A file touched but not changed: same bytes, new mtime."""
        row = self.rows.get(stamp.source)
        if row is None or row.content_hash != content_hash:
            return None
        review = review_from_record(stamp.source, row.content_hash, row.record)
        self.changed[stamp.source] = (stamp, review)
        return review

    def put(self, stamp: FileStamp, review: Review) -> None:
        self.changed[stamp.source] = (stamp, review)

    def save(self) -> None:
        """Write new and changed rows, forget files that are gone."""
        gone = [(source,) for source in self.rows if source not in self.seen]
        rows = [
            (source, stamp.size, stamp.mtime_ns, review.content_hash, review_to_record(review))
            for source, (stamp, review) in self.changed.items()
        ]
        if not (gone or rows) and self.store.get_meta("cache_fingerprint") == self.fingerprint:
            return
        with self.store.transaction() as db:
            db.executemany("DELETE FROM review_cache WHERE source = ?", gone)
            db.executemany("DELETE FROM rendered_bodies WHERE source = ?", gone)
            db.executemany("INSERT OR REPLACE INTO review_cache VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('cache_fingerprint', ?)", (self.fingerprint,))


def review_to_record(review: Review) -> str:
    """A review as a compact JSON array (field order is part of the cache fingerprint)."""
    return json.dumps(
        [
            review.title, review.slug, review.path, review.published.isoformat(),
            review.updated.isoformat() if review.updated else None,
            [[author.name, author.email, author.uri, author.bio] for author in review.authors],
            review.summary, review.categories, review.tags, review.rating, review.image, review.draft,
            review.entry_id, review.extra, review.notes,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )  # fmt: skip


def review_from_record(source: str, content_hash: str, record: str) -> Review:
    (title, slug, path, published, updated, authors, summary, categories, tags, rating, image, draft,
     entry_id, extra, notes) = json.loads(record)  # fmt: skip
    return Review(
        source=source,
        title=title,
        slug=slug,
        path=path,
        published=datetime.fromisoformat(published),
        updated=datetime.fromisoformat(updated) if updated else None,
        authors=tuple(Author(*author) for author in authors),
        summary=summary,
        categories=tuple(categories),
        tags=tuple(tags),
        rating=rating,
        image=image,
        draft=draft,
        entry_id=entry_id,
        extra=tuple((key, value) for key, value in extra),
        notes=tuple(notes),
        content_hash=content_hash,
    )
