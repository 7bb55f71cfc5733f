"""The newsletter's SQLite state: subscribers, frozen digests, per-recipient deliveries, the send lock.

Every query the newsletter makes is here; sqlite3 errors become StateError through `Store`.
"""

from __future__ import annotations

import enum
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedkit.errors import FeedkitError, LockedError
from feedkit.model import DigestContent
from feedkit.store.db import Store


class SubscriberStatus(enum.StrEnum):
    """Where a subscriber stands; only an active one is ever mailed a digest."""

    PENDING = "pending"  # asked to join, not confirmed yet
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"  # suppressed: the address does not take mail
    COMPLAINED = "complained"  # suppressed: the reader marked a digest as spam

    @property
    def suppressed(self) -> bool:
        """Never mailed again, and never brought back by an import."""
        return self in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


class DeliveryStatus(enum.StrEnum):
    """Where one recipient's copy of one digest stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # the subscriber left after the digest was frozen
    UNKNOWN = "unknown"  # the whole message went out and no reply came: retried once, later


ACTIVE, UNSUBSCRIBED = SubscriberStatus.ACTIVE, SubscriberStatus.UNSUBSCRIBED
PENDING, SENT, FAILED = DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED
SKIPPED, UNKNOWN = DeliveryStatus.SKIPPED, DeliveryStatus.UNKNOWN
UNFINISHED = (PENDING, UNKNOWN)
STALE_LOCK_AFTER = timedelta(seconds=90)  # a holder whose heartbeat is this old is gone


@dataclass(frozen=True, slots=True)
class Subscriber:
    address: str
    name: str
    status: str
    subscribed_at: str
    unsubscribed_at: str | None


@dataclass(frozen=True, slots=True)
class FrozenDigest:
    """A digest as created: its reviews and rendered bodies never change afterwards."""

    id: int
    created_at: datetime
    content: DigestContent
    nonce: str = ""  # random per digest, part of every Message-ID; "" for digests made before it


@dataclass(frozen=True, slots=True)
class Delivery:
    email_key: str
    address: str
    attempts: int
    status: str = PENDING


@dataclass(frozen=True, slots=True)
class DigestStatus:
    """How far a digest got: counts by delivery status, and why the failures failed."""

    id: int
    created_at: str
    subject: str
    reviews: int
    counts: dict[str, int]
    errors: tuple[tuple[str, str], ...]


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- subscribers ------------------------------------------------------------------------------


def find_subscriber(store: Store, email_key: str) -> Subscriber | None:
    row = store.query_one(
        "SELECT address, name, status, subscribed_at, unsubscribed_at FROM subscribers WHERE email_key = ?",
        (email_key,),
    )
    return None if row is None else Subscriber(*row)


def insert_subscribers(store: Store, rows: list[tuple[str, str, str]]) -> None:
    """New subscribers as (key, address, name), in one transaction."""
    now = now_text()
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO subscribers (email_key, address, name, status, subscribed_at, confirmed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(key, address, name, ACTIVE, now, now) for key, address, name in rows],
        )


def unsubscribe(store: Store, email_key: str) -> bool:
    """Mark an address unsubscribed; False if it was not subscribed (unknown, or already out)."""
    with store.transaction() as db:
        changed = db.execute(
            "UPDATE subscribers SET status = ?, unsubscribed_at = ? WHERE email_key = ? AND status = ?",
            (UNSUBSCRIBED, now_text(), email_key, ACTIVE),
        ).rowcount
    return changed > 0


def list_subscribers(store: Store, status: str | None = None) -> list[Subscriber]:
    query = "SELECT address, name, status, subscribed_at, unsubscribed_at FROM subscribers"
    rows = (
        store.query_all(query + " WHERE status = ? ORDER BY email_key", (status,))
        if status
        else (store.query_all(query + " ORDER BY email_key"))
    )
    return [Subscriber(*row) for row in rows]


def is_subscribed(store: Store, email_key: str) -> bool:
    row = store.query_one("SELECT status FROM subscribers WHERE email_key = ?", (email_key,))
    return row is not None and row[0] == ACTIVE


def count_subscribed(store: Store) -> int:
    row = store.query_one("SELECT count(*) FROM subscribers WHERE status = ?", (ACTIVE,))
    return int(row[0]) if row else 0


# -- digests ------------------------------------------------------------------------------------


def digest_floor(store: Store) -> datetime | None:
    """The earliest moment any digest looks back to: set by the first digest, kept for all later ones."""
    row = store.query_one("SELECT since FROM digests ORDER BY id LIMIT 1")
    return datetime.fromisoformat(row[0]) if row else None


def last_digest(store: Store) -> tuple[int, datetime] | None:
    """The newest digest's number and when it was made."""
    row = store.query_one("SELECT id, created_at FROM digests ORDER BY id DESC LIMIT 1")
    return None if row is None else (int(row[0]), datetime.fromisoformat(row[1]))


def last_digest_time(store: Store) -> datetime | None:
    row = store.query_one("SELECT max(created_at) FROM digests")
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def digested_sources(store: Store) -> set[str]:
    return {str(row[0]) for row in store.query_all("SELECT DISTINCT source FROM digest_items")}


def record_review_visibility(store: Store, public: set[str], hidden: set[str]) -> dict[str, datetime | None]:
    """Remember when feedkit first saw each review, and when a hidden one first became public.

    Returns, per public review, the moment it became public if it was hidden when first seen (a
    draft or a scheduled review), else None (its publication date tells). Read and write happen
    in one transaction, so two processes doing this at once cannot both insert the same row.
    """
    now = now_text()
    with store.transaction() as db:
        known = {row[0]: row[1:] for row in db.execute("SELECT source, was_hidden, public_at FROM review_seen")}
        new_rows = [
            (source, now, 0 if source in public else 1, now if source in public else None)
            for source in (public | hidden) - known.keys()
        ]
        db.executemany("INSERT INTO review_seen VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", new_rows)
        now_public = [(now, source) for source in public if source in known and known[source][1] is None]
        db.executemany("UPDATE review_seen SET public_at = ? WHERE source = ? AND public_at IS NULL", now_public)
        rows = db.execute("SELECT source, public_at FROM review_seen WHERE was_hidden = 1").fetchall()
    late = {str(source): datetime.fromisoformat(public_at) for source, public_at in rows if public_at}
    return {source: late.get(source) for source in public}


def freeze_digest(store: Store, content: DigestContent) -> FrozenDigest:
    """Store a digest and one pending delivery per subscriber, all in one transaction."""
    created = datetime.now(UTC).replace(microsecond=0)
    nonce = secrets.token_hex(4)
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO digests (created_at, since, subject, html, text, archive_url, nonce) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                created.isoformat(),
                content.since.isoformat(),
                content.subject,
                content.html,
                content.text,
                content.archive_url,
                nonce,
            ),
        )
        digest_id = int(cursor.lastrowid or 0)
        db.execute("UPDATE digests SET run_id = id WHERE id = ?", (digest_id,))
        rows = [(digest_id, source, position) for position, source in enumerate(content.sources)]
        db.executemany("INSERT INTO digest_items (digest_id, source, position) VALUES (?, ?, ?)", rows)
        db.execute(
            "INSERT INTO deliveries (digest_id, email_key, address, status, updated_at) "
            "SELECT ?, email_key, address, ?, ? FROM subscribers WHERE status = ?",
            (digest_id, PENDING, created.isoformat(), ACTIVE),
        )
    return FrozenDigest(digest_id, created, content, nonce)


def load_digest(store: Store, digest_id: int) -> FrozenDigest:
    row = store.query_one(
        "SELECT created_at, since, subject, html, text, archive_url, nonce FROM digests WHERE id = ?",
        (digest_id,),
    )
    if row is None:
        raise FeedkitError(f"digest {digest_id} does not exist", "run 'feedkit digest status' to list digests")
    items = store.query_all("SELECT source FROM digest_items WHERE digest_id = ? ORDER BY position", (digest_id,))
    created, since, subject, html, text, archive_url, nonce = row
    sources = tuple(str(item[0]) for item in items)
    content = DigestContent(subject, html, text, sources, datetime.fromisoformat(since), archive_url)
    return FrozenDigest(digest_id, datetime.fromisoformat(created), content, str(nonce))


def previous_archive_url(store: Store, digest_id: int) -> str | None:
    """The archived copy of the latest digest before this one that has a copy, if any."""
    archived_before = "SELECT archive_url FROM digests WHERE id < ? AND archive_url != ''"
    row = store.query_one(archived_before + " ORDER BY id DESC LIMIT 1", (digest_id,))
    return str(row[0]) if row else None


def unfinished_digests(store: Store) -> list[int]:
    rows = store.query_all(
        "SELECT DISTINCT digest_id FROM deliveries WHERE status IN (?, ?) ORDER BY digest_id",
        UNFINISHED,
    )
    return [int(row[0]) for row in rows]


def pending_deliveries(store: Store, digest_id: int) -> list[Delivery]:
    """Deliveries still to send: pending ones, and unknown ones that get their one retry."""
    rows = store.query_all(
        "SELECT email_key, address, attempts, status FROM deliveries "
        "WHERE digest_id = ? AND status IN (?, ?) ORDER BY email_key",
        (digest_id, *UNFINISHED),
    )
    return [Delivery(str(key), str(address), int(tries), str(status)) for key, address, tries, status in rows]


def mark_delivery(
    store: Store, digest_id: int, email_key: str, status: str, error: str | None = None, *, count_run: bool = True
) -> None:
    """Record one message's outcome at once, in its own transaction: this is the exactly-once point.

    `count_run=False` notes an error without counting a run against the recipient: the server
    never answered, so the recipient's address had nothing to do with it.
    """
    with store.transaction() as db:
        db.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + ?, last_error = ?, updated_at = ? "
            "WHERE digest_id = ? AND email_key = ?",
            (status, 1 if count_run else 0, error, now_text(), digest_id, email_key),
        )


def digest_statuses(store: Store, limit: int = 10) -> list[DigestStatus]:
    digests = store.query_all("SELECT id, created_at, subject FROM digests ORDER BY id DESC LIMIT ?", (limit,))
    statuses = []
    for digest_id, created_at, subject in digests:
        counts = dict(store.query_all(
            "SELECT status, count(*) FROM deliveries WHERE digest_id = ? GROUP BY status", (digest_id,)
        ))  # fmt: skip
        errors = store.query_all(
            "SELECT address, last_error FROM deliveries WHERE digest_id = ? AND last_error IS NOT NULL "
            "AND status != ? ORDER BY address LIMIT 20",
            (digest_id, SENT),
        )
        items = store.query_one("SELECT count(*) FROM digest_items WHERE digest_id = ?", (digest_id,))
        statuses.append(
            DigestStatus(int(digest_id), str(created_at), str(subject), int(items[0]) if items else 0,
                         {str(k): int(v) for k, v in counts.items()}, tuple((str(a), str(e)) for a, e in errors))
        )  # fmt: skip
    return statuses


# -- the send lock ------------------------------------------------------------------------------


_HELD_HERE: set[str] = set()  # tokens of the locks this process holds right now
HEARTBEAT_SECONDS = 20  # a holder refreshes its lock this often, on a timer of its own


@contextmanager
def send_lock(store: Store) -> Iterator[None]:
    """Only one sender at a time, whichever shell started it; a lock left by a dead process is taken over."""
    host, pid, token = socket.gethostname(), os.getpid(), secrets.token_hex(8)
    with store.transaction() as db:
        row = db.execute(
            "SELECT host, pid, acquired_at, heartbeat_at, token FROM locks WHERE name = 'digest'"
        ).fetchone()
        if row is not None and _is_alive(*row):
            since = row[2].replace("T", " ").replace("+00:00", " UTC")
            raise LockedError(
                f"another digest send is running (process {row[1]} on {row[0]}, since {since})",
                "wait for it to finish; `feedkit digest status` shows its progress",
            )
        now = now_text()
        db.execute("INSERT OR REPLACE INTO locks VALUES ('digest', ?, ?, ?, ?, ?)", (host, pid, now, now, token))
    _HELD_HERE.add(token)
    done = threading.Event()
    beating = threading.Thread(target=_beat_until, args=(store.path, token, done), daemon=True)
    beating.start()
    try:
        yield
    finally:
        done.set()
        beating.join()
        _HELD_HERE.discard(token)
        with store.transaction() as db:
            db.execute("DELETE FROM locks WHERE name = 'digest' AND token = ?", (token,))


def _beat_until(database: Path, token: str, done: threading.Event) -> None:
    """Refresh the lock's heartbeat on a timer, however slowly messages go out."""
    with Store(database) as store:
        while not done.wait(HEARTBEAT_SECONDS):
            with store.transaction() as db:
                db.execute("UPDATE locks SET heartbeat_at = ? WHERE token = ?", (now_text(), token))


def _is_alive(host: str, pid: int, _acquired_at: str, heartbeat_at: str, token: str) -> bool:
    """Is the process that wrote this lock row still sending?"""
    if datetime.now(UTC) - datetime.fromisoformat(heartbeat_at) > STALE_LOCK_AFTER:
        return False  # no heartbeat for minutes: its holder is gone, wherever it ran
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        # This very process: alive only if it holds this lock now (a nested send). Otherwise the row is
        # from an earlier process with the same PID, e.g. a restarted container where every PID is 1.
        return token in _HELD_HERE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
