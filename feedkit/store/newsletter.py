"""The newsletter's queries: subscribers, frozen digests, per-recipient deliveries, and what
selection needs to know of earlier digests. The send lock is in feedkit.store.locks.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from feedkit.errors import FeedkitError
from feedkit.newsletter.model import (
    UNFINISHED,
    Delivery,
    DeliveryStatus,
    DigestContent,
    DigestStatus,
    FrozenDigest,
    Subscriber,
    SubscriberStatus,
)
from feedkit.newsletter.selection import DigestHistory, Seen
from feedkit.store.db import Store


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- subscribers ------------------------------------------------------------------------------


def find_subscriber(store: Store, email_key: str) -> Subscriber | None:
    row = store.query_one(
        "SELECT address, name, status, subscribed_at, unsubscribed_at FROM subscribers WHERE "
        "email_key = ?",
        (email_key,),
    )
    return None if row is None else Subscriber(*row)


def insert_subscribers(store: Store, rows: list[tuple[str, str, str]]) -> None:
    """New subscribers as (key, address, name), in one transaction."""
    now = now_text()
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO subscribers (email_key, address, name, status, subscribed_at, "
            "confirmed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (key, address, name, SubscriberStatus.ACTIVE, now, now)
                for key, address, name in rows
            ],
        )


def unsubscribe(store: Store, email_key: str) -> bool:
    """Mark an address unsubscribed; False if it was not subscribed (unknown, or already out)."""
    with store.transaction() as db:
        changed = db.execute(
            "UPDATE subscribers SET status = ?, unsubscribed_at = ? WHERE email_key = ? AND "
            "status = ?",
            (SubscriberStatus.UNSUBSCRIBED, now_text(), email_key, SubscriberStatus.ACTIVE),
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
    return row is not None and row[0] == SubscriberStatus.ACTIVE


def count_subscribed(store: Store) -> int:
    row = store.query_one(
        "SELECT count(*) FROM subscribers WHERE status = ?", (SubscriberStatus.ACTIVE,)
    )
    return int(row[0]) if row else 0


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


def freeze_digest(store: Store, content: DigestContent, created: datetime) -> FrozenDigest:
    """Store a digest and one pending delivery per subscriber, all in one transaction."""
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
        db.executemany(
            "INSERT INTO digest_items (digest_id, source, position) VALUES (?, ?, ?)", rows
        )
        db.execute(
            "INSERT INTO deliveries (digest_id, email_key, address, status, updated_at) "
            "SELECT ?, email_key, address, ?, ? FROM subscribers WHERE status = ?",
            (digest_id, DeliveryStatus.PENDING, created.isoformat(), SubscriberStatus.ACTIVE),
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
    rows = store.query_all("SELECT archive_url FROM digests WHERE archive_url != '' ORDER BY id")
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
    digests = store.query_all(
        "SELECT id, created_at, subject FROM digests ORDER BY id DESC LIMIT ?", (limit,)
    )
    statuses = []
    for digest_id, created_at, subject in digests:
        counts = dict(
            store.query_all(
                "SELECT status, count(*) FROM deliveries WHERE digest_id = ? GROUP BY status",
                (digest_id,),
            )
        )
        errors = store.query_all(
            "SELECT address, last_error FROM deliveries WHERE digest_id = ? AND last_error IS NOT "
            "NULL "
            "AND status != ? ORDER BY address LIMIT 20",
            (digest_id, DeliveryStatus.SENT),
        )
        items = store.query_one(
            "SELECT count(*) FROM digest_items WHERE digest_id = ?", (digest_id,)
        )
        statuses.append(
            DigestStatus(
                int(digest_id),
                str(created_at),
                str(subject),
                int(items[0]) if items else 0,
                {str(k): int(v) for k, v in counts.items()},
                tuple((str(a), str(e)) for a, e in errors),
            )
        )
    return statuses


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
