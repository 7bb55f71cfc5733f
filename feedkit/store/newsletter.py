"""The newsletter's queries: subscribers, frozen digests, per-recipient deliveries, and what
selection needs to know of earlier digests. The send lock is in feedkit.store.locks.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedkit.errors import FeedkitError
from feedkit.newsletter.model import (
    UNFINISHED,
    Delivery,
    DeliveryStatus,
    DigestContent,
    DigestStatus,
    FrozenDigest,
    SubscriberStatus,
)
from feedkit.newsletter.selection import DigestHistory, Seen
from feedkit.store.db import Store
from feedkit.store.subscribers import is_subscribed


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- digests ------------------------------------------------------------------------------------


def digest_history(store: Store) -> DigestHistory:
    """The floor, the reviews already in a digest, and when each review was first seen public."""
    floor = store.query_one("SELECT since FROM digests ORDER BY id LIMIT 1")
    already = {str(row[0]) for row in store.query_all("SELECT DISTINCT source FROM digest_items")}
    rows = store.query_all("SELECT source, was_hidden, public_at FROM review_seen")
    seen = {
        str(source): Seen(bool(hidden), datetime.fromisoformat(at) if at else None)
        for source, hidden, at in rows
    }
    return DigestHistory(
        datetime.fromisoformat(floor[0]) if floor else None, frozenset(already), seen
    )


def last_digest(store: Store) -> tuple[int, datetime] | None:
    """The newest digest's number and when it was made."""
    row = store.query_one("SELECT id, created_at FROM digests ORDER BY id DESC LIMIT 1")
    return None if row is None else (int(row[0]), datetime.fromisoformat(row[1]))


def last_digest_time(store: Store) -> datetime | None:
    row = store.query_one("SELECT max(created_at) FROM digests")
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def record_review_visibility(
    store: Store, public: set[str], hidden: set[str], now: datetime
) -> None:
    """Remember when feedkit first saw each review, and when a hidden one first became public.

    Read and write happen in one transaction, so two processes doing this at once cannot both
    insert the same row.
    """
    moment = now.isoformat(timespec="seconds")
    with store.transaction() as db:
        rows = db.execute("SELECT source, public_at FROM review_seen").fetchall()
        known = dict(rows)
        new_rows = [
            (source, moment, 0 if source in public else 1, moment if source in public else None)
            for source in (public | hidden) - known.keys()
        ]
        db.executemany(
            "INSERT INTO review_seen VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", new_rows
        )
        now_public = [
            (moment, source) for source in public if source in known and not known[source]
        ]
        db.executemany(
            "UPDATE review_seen SET public_at = ? WHERE source = ? AND public_at IS NULL",
            now_public,
        )


@dataclass(frozen=True, slots=True)
class Part:
    """One digest of a run: its content, which readers it is for, and a label for status."""

    content: DigestContent
    email_keys: tuple[str, ...]
    segment: str = ""  # "" for every review of the run


def freeze_run(store: Store, parts: Sequence[Part], created: datetime) -> list[FrozenDigest]:
    """Store a run's digests and one pending delivery per reader, all in one transaction.

    The run is the first digest's number; a reader who is no longer active gets no delivery.
    """
    frozen: list[FrozenDigest] = []
    with store.transaction() as db:
        for part in parts:
            run_id = frozen[0].id if frozen else None
            frozen.append(_freeze_part(db, part, created, run_id))
    return frozen


def _freeze_part(
    db: sqlite3.Connection, part: Part, created: datetime, run_id: int | None
) -> FrozenDigest:
    nonce = secrets.token_hex(4)
    content = part.content
    cursor = db.execute(
        "INSERT INTO digests (created_at, since, subject, html, text, archive_url, nonce, "
        "segment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            created.isoformat(),
            content.since.isoformat(),
            content.subject,
            content.html,
            content.text,
            content.archive_url,
            nonce,
            part.segment,
        ),
    )
    digest_id = int(cursor.lastrowid or 0)
    db.execute("UPDATE digests SET run_id = ? WHERE id = ?", (run_id or digest_id, digest_id))
    rows = [(digest_id, source, position) for position, source in enumerate(content.sources)]
    db.executemany("INSERT INTO digest_items (digest_id, source, position) VALUES (?, ?, ?)", rows)
    db.executemany(
        "INSERT INTO deliveries (digest_id, email_key, address, status, updated_at) "
        "SELECT ?, email_key, address, ?, ? FROM subscribers WHERE email_key = ? AND status = ?",
        [
            (digest_id, DeliveryStatus.PENDING, created.isoformat(), key, SubscriberStatus.ACTIVE)
            for key in part.email_keys
        ],
    )
    return FrozenDigest(digest_id, created, content, nonce)


def load_digest(store: Store, digest_id: int) -> FrozenDigest:
    row = store.query_one(
        "SELECT created_at, since, subject, html, text, archive_url, nonce FROM digests WHERE id "
        "= ?",
        (digest_id,),
    )
    if row is None:
        raise FeedkitError(
            f"digest {digest_id} does not exist", "run 'feedkit digest status' to list digests"
        )
    items = store.query_all(
        "SELECT source FROM digest_items WHERE digest_id = ? ORDER BY position", (digest_id,)
    )
    created, since, subject, html, text, archive_url, nonce = row
    sources = tuple(str(item[0]) for item in items)
    content = DigestContent(
        subject, html, text, sources, datetime.fromisoformat(since), archive_url
    )
    return FrozenDigest(digest_id, datetime.fromisoformat(created), content, str(nonce))


def archive_urls(store: Store) -> list[str]:
    """The addresses of every archived copy, oldest digest first."""
    rows = store.query_all(
        "SELECT archive_url FROM digests WHERE archive_url != '' AND id = run_id ORDER BY id"
    )
    return [str(row[0]) for row in rows]


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
    return [
        Delivery(str(key), str(address), int(tries), str(status))
        for key, address, tries, status in rows
    ]


def mark_delivery(
    store: Store,
    digest_id: int,
    email_key: str,
    status: str,
    error: str | None = None,
    *,
    count_run: bool = True,
) -> None:
    """Record one message's outcome at once, in its own transaction: this is the exactly-once
    point.

    `count_run=False` notes an error without counting a run against the recipient: the server
    never answered, so the recipient's address had nothing to do with it.
    """
    with store.transaction() as db:
        db.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + ?, last_error = ?, "
            "updated_at = ? "
            "WHERE digest_id = ? AND email_key = ?",
            (status, 1 if count_run else 0, error, now_text(), digest_id, email_key),
        )


def digest_statuses(store: Store, limit: int = 10) -> list[DigestStatus]:
    """The digests of the last `limit` runs, newest first."""
    digests = store.query_all(
        "SELECT id, created_at, subject, run_id, segment FROM digests WHERE run_id IN "
        "(SELECT DISTINCT run_id FROM digests ORDER BY run_id DESC LIMIT ?) ORDER BY id DESC",
        (limit,),
    )
    return [_digest_status(store, row) for row in digests]


def _digest_status(store: Store, row: Sequence[Any]) -> DigestStatus:
    """One digest's counts by outcome, and why the first failures failed."""
    digest_id, created_at, subject, run_id, segment = row
    counts = store.query_all(
        "SELECT status, count(*) FROM deliveries WHERE digest_id = ? GROUP BY status",
        (digest_id,),
    )
    errors = store.query_all(
        "SELECT address, last_error FROM deliveries WHERE digest_id = ? AND last_error IS NOT "
        "NULL AND status != ? ORDER BY address LIMIT 20",
        (digest_id, DeliveryStatus.SENT),
    )
    items = store.query_one("SELECT count(*) FROM digest_items WHERE digest_id = ?", (digest_id,))
    return DigestStatus(
        int(digest_id),
        str(created_at),
        str(subject),
        int(items[0]) if items else 0,
        {str(status): int(count) for status, count in counts},
        tuple((str(address), str(error)) for address, error in errors),
        run_id=int(run_id),
        segment=str(segment),
    )


# -- the send lock ------------------------------------------------------------------------------


class DeliveryRecords:
    """The delivery log of one digest on a connection of its own (one per sending thread)."""

    def __init__(self, store: Store, digest_id: int) -> None:
        self.store = store
        self.digest_id = digest_id

    def __enter__(self) -> DeliveryRecords:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.db.close()

    def is_active(self, email_key: str) -> bool:
        return is_subscribed(self.store, email_key)

    def mark(self, delivery: Delivery, status: str, error: str | None, *, count_run: bool) -> None:
        mark_delivery(
            self.store, self.digest_id, delivery.email_key, status, error, count_run=count_run
        )
