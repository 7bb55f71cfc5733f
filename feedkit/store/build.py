"""What builds remember: parsed reviews (the parse cache), stable entry ids, rendered bodies and
the fingerprint of every feed file written."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from feedkit.content.bodies import BodyRow
from feedkit.content.markup import RenderedBody
from feedkit.content.records import review_from_record, review_to_record
from feedkit.model import FileStamp, Review
from feedkit.store.db import Store, utc_text

FEED_INDEX_KEY = "feed_index"  # [[folder, title], ...] of the last build, for `feedkit serve`
OUTPUT_FOLDER_KEY = "output_folder"
FIRST_BUILD_KEY = "first_build"


def known_entry_ids(store: Store) -> dict[str, str]:
    """The id each source file was first published under."""
    rows = store.query_all("SELECT source, entry_id FROM entry_ids")
    return {str(source): str(entry_id) for source, entry_id in rows}


def remember_entry_ids(store: Store, new_ids: dict[str, str]) -> None:
    if new_ids:
        with store.transaction() as db:
            rows = [(source, entry_id, utc_text()) for source, entry_id in new_ids.items()]
            db.executemany("INSERT OR IGNORE INTO entry_ids VALUES (?, ?, ?)", rows)


def rendered_body(store: Store, source: str, key: str) -> tuple[str, str] | None:
    """A body rendered by an earlier build, if its inputs (the key) are unchanged."""
    row = store.query_one(
        "SELECT html, summary FROM rendered_bodies WHERE source = ? AND key = ?", (source, key)
    )
    return None if row is None else (str(row[0]), str(row[1]))


def save_rendered_bodies(store: Store, rows: Iterable[tuple[str, str, str, str]]) -> None:
    rows = list(rows)
    if rows:
        with store.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO rendered_bodies VALUES (?, ?, ?, ?)", rows)


class StoreBodyCache:
    """Rendered bodies kept in the state database between builds."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def rendered(self, source: str, key: str) -> RenderedBody | None:
        stored = rendered_body(self.store, source, key)
        return None if stored is None else RenderedBody(*stored)

    def save(self, rows: list[BodyRow]) -> None:
        save_rendered_bodies(self.store, rows)


def output_fingerprints(store: Store) -> dict[str, tuple[str, int]]:
    rows = store.query_all("SELECT path, fingerprint, size FROM outputs")
    return {str(path): (str(fingerprint), int(size)) for path, fingerprint, size in rows}


def forget_outputs(store: Store, paths: list[str]) -> None:
    with store.transaction() as db:
        db.executemany("DELETE FROM outputs WHERE path = ?", [(path,) for path in paths])


def record_outputs(store: Store, outputs: dict[str, tuple[str, int]]) -> None:
    rows = [(path, fingerprint, size) for path, (fingerprint, size) in outputs.items()]
    with store.transaction() as db:
        db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", rows)


def outputs_of_folder(store: Store, folder: str) -> dict[str, tuple[str, int]]:
    """The feeds earlier builds wrote into this output folder; another folder's are forgotten."""
    if store.get_meta(OUTPUT_FOLDER_KEY) not in (None, folder):
        forget_outputs(store, list(output_fingerprints(store)))
    store.set_meta(OUTPUT_FOLDER_KEY, folder)
    return output_fingerprints(store)


def first_build(store: Store, now: datetime) -> datetime:
    """When this site was first built: the stable date of a feed that has no entries yet."""
    recorded = store.get_meta(FIRST_BUILD_KEY)
    if recorded is None:
        recorded = now.replace(microsecond=0).isoformat()
        store.set_meta(FIRST_BUILD_KEY, recorded)
    return datetime.fromisoformat(recorded)


def record_feed_index(store: Store, index: list[tuple[str, str]]) -> None:
    """The (folder, title) of every feed the build planned, for a home page that reads no
    content."""
    store.set_meta(FEED_INDEX_KEY, json.dumps([list(item) for item in index], ensure_ascii=False))


@dataclass(slots=True)
class _CachedRow:
    size: int
    mtime_ns: int
    content_hash: str
    record: str


WRITE_BATCH = 2000  # cache rows written together while a large site is parsed


class SqliteReviewCache:
    """The build cache: reviews parsed earlier, read once at start and written back in one go.

    Rows are tied to a fingerprint of the settings that shape a parsed review (time zone,
    permalink pattern, feedkit version); a different fingerprint empties the cache.
    """

    def __init__(self, store: Store, fingerprint: str, *, saving: bool = True) -> None:
        self.store = store
        self.fingerprint = fingerprint
        self.saving = saving  # False: a read-only look (a preview), which writes nothing
        self.rows: dict[str, _CachedRow] = {}
        self.changed: dict[str, tuple[FileStamp, str, str]] = {}  # stamp, content hash, record
        self.seen: set[str] = set()
        self.written = False  # rows were written before save(), a batch at a time
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
        self.changed[stamp.source] = (stamp, row.content_hash, row.record)
        return review_from_record(stamp.source, row.content_hash, row.record)

    def put(self, stamp: FileStamp, review: Review, record: str | None = None) -> None:
        """Keep a parsed review for the next build; `record` is its record, where one was made.

        Rows are written as they come, a batch at a time: a large site's records never sit in
        memory all together beside its reviews.
        """
        record = record if record is not None else review_to_record(review)
        self.changed[stamp.source] = (stamp, review.content_hash, record)
        if self.saving and len(self.changed) >= WRITE_BATCH:
            self._write_changed()

    def _write_changed(self) -> None:
        rows = [
            (source, stamp.size, stamp.mtime_ns, content_hash, record)
            for source, (stamp, content_hash, record) in self.changed.items()
        ]
        with self.store.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO review_cache VALUES (?, ?, ?, ?, ?)", rows)
        self.written = True
        self.changed.clear()

    def save(self) -> None:
        """Write new and changed rows, forget files that are gone."""
        gone = [(source,) for source in self.rows if source not in self.seen]
        same = self.store.get_meta("cache_fingerprint") == self.fingerprint
        if not (gone or self.changed or self.written) and same:
            return
        self._write_changed()
        with self.store.transaction() as db:
            db.executemany("DELETE FROM review_cache WHERE source = ?", gone)
            db.executemany("DELETE FROM rendered_bodies WHERE source = ?", gone)
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('cache_fingerprint', ?)", (self.fingerprint,)
            )


def feed_index(store: Store) -> list[tuple[str, str]]:
    """The (folder, title) of every feed the last build planned; [] if none is recorded."""
    recorded = store.get_meta(FEED_INDEX_KEY)
    try:
        index = json.loads(recorded) if recorded else []
    except ValueError:
        return []
    if not isinstance(index, list) or not all(_is_text_pair(item) for item in index):
        return []
    return [(str(folder), str(title)) for folder, title in index]


def _is_text_pair(item: object) -> bool:
    return isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
