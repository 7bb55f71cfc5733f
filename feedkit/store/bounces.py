"""Returned mail's queries: which messages were read, the bounces and complaints traced to
subscribers, suppressions and their lifting, and the counts per digest that status shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from feedkit.newsletter.model import (
    BounceEvent,
    BounceKind,
    DigestStatus,
    KeptMessage,
    SubscriberStatus,
    Suppression,
)
from feedkit.store.db import Store

# A suppression only ever replaces these: a reader's own unsubscribe is theirs to undo.
_SUPPRESSIBLE = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)


def moment_text(moment: datetime) -> str:
    """A moment as stored: UTC, to the second, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# -- messages read ------------------------------------------------------------------------------


def was_read(store: Store, message_key: str) -> bool:
    row = store.query_one("SELECT 1 FROM bounce_messages WHERE message_key = ?", (message_key,))
    return row is not None


@dataclasses.dataclass(frozen=True, slots=True)
class ReadMessage:
    """One returned message as recorded: what became of it and why."""

    message_key: str
    received_at: datetime
    outcome: str  # recorded, ignored or kept
    kind: str  # what the parser made of it
    reason: str
    kept_file: str | None = None


def record_message(store: Store, message: ReadMessage, events: Sequence[BounceEvent]) -> None:
    """The message and the events traced from it, in one transaction; a message read before
    (by another ingest at the same moment) is left as it was."""
    with store.transaction() as db:
        inserted = db.execute(
            "INSERT INTO bounce_messages VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                message.message_key,
                moment_text(message.received_at),
                message.outcome,
                message.kind,
                message.reason,
                message.kept_file,
            ),
        ).rowcount
        if not inserted:
            return
        db.executemany(
            "INSERT INTO bounce_events (message_key, email_key, digest_id, kind, found_by, "
            "occurred_at, status, diagnostic) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [_event_row(message.message_key, event) for event in events],
        )


def _event_row(message_key: str, event: BounceEvent) -> tuple[object, ...]:
    return (
        message_key,
        event.email_key,
        event.digest_id,
        event.kind,
        event.found_by,
        moment_text(event.occurred_at),
        event.status,
        event.diagnostic,
    )


def kept_messages(store: Store) -> list[KeptMessage]:
    rows = store.query_all(
        "SELECT received_at, kept_file, reason FROM bounce_messages WHERE outcome = 'kept' "
        "ORDER BY received_at, message_key"
    )
    return [KeptMessage(str(at), str(name), str(reason)) for at, name, reason in rows]


# -- tracing a report to a delivery ------------------------------------------------------------


def digest_nonce(store: Store, digest_id: int) -> str | None:
    """The digest's nonce ("" for digests made before nonces); None if there is no such digest."""
    row = store.query_one("SELECT nonce FROM digests WHERE id = ?", (digest_id,))
    return None if row is None else str(row[0])


def digest_recipients(store: Store, digest_id: int) -> list[str]:
    """The address keys a digest was addressed to, whatever became of each copy."""
    rows = store.query_all("SELECT email_key FROM deliveries WHERE digest_id = ?", (digest_id,))
    return [str(row[0]) for row in rows]


class Standing(NamedTuple):
    """Where one subscriber stands, as far as returned mail needs to know."""

    address: str
    status: SubscriberStatus
    since: str | None  # when they left or were suppressed


def standing(store: Store, email_key: str) -> Standing | None:
    row = store.query_one(
        "SELECT address, status, unsubscribed_at FROM subscribers WHERE email_key = ?",
        (email_key,),
    )
    return None if row is None else Standing(str(row[0]), SubscriberStatus(row[1]), row[2])


# -- the rules' counts, and suppression --------------------------------------------------------


def count_bounces(store: Store, email_key: str, kind: BounceKind, since: datetime | None) -> int:
    """Bounces of one kind that still count, one per digest (a report traced to no digest counts
    on its own), since a moment or ever."""
    row = store.query_one(
        "SELECT count(DISTINCT coalesce(CAST(digest_id AS TEXT), message_key)) "
        "FROM bounce_events WHERE email_key = ? AND kind = ? AND counts = 1 AND occurred_at > ?",
        (email_key, kind, moment_text(since) if since else ""),
    )
    return int(row[0]) if row else 0


def suppress(
    store: Store, email_key: str, status: SubscriberStatus, now: datetime
) -> Suppression | None:
    """Mark a subscriber bounced or complained, remembering what they were; None if nothing
    changed (already so, or not someone this status may replace)."""
    replaceable = [*_SUPPRESSIBLE]
    if status is SubscriberStatus.COMPLAINED:  # a complaint outranks every other status
        replaceable += [SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED]
    since = moment_text(now)
    with store.transaction() as db:
        row = db.execute(
            "SELECT address, status FROM subscribers WHERE email_key = ?", (email_key,)
        ).fetchone()
        if row is None or row[1] not in replaceable:
            return None
        address, before = str(row[0]), SubscriberStatus(row[1])
        db.execute(
            "UPDATE subscribers SET status = ?, unsubscribed_at = ? WHERE email_key = ?",
            (status, since, email_key),
        )
        db.execute(
            "INSERT INTO suppressions VALUES (?, ?, ?, ?) ON CONFLICT (email_key) DO UPDATE "
            "SET status = excluded.status, since = excluded.since",
            (email_key, status, before, since),
        )
    return Suppression(email_key, address, status, before, since)


def suppression(store: Store, email_key: str) -> Suppression | None:
    row = store.query_one(
        "SELECT s.address, p.status, p.status_before, p.since FROM suppressions p "
        "JOIN subscribers s USING (email_key) WHERE email_key = ? AND s.status = p.status",
        (email_key,),
    )
    if row is None:
        return None
    address, status, before, since = row
    return Suppression(
        email_key, str(address), SubscriberStatus(status), SubscriberStatus(before), str(since)
    )


def lift(store: Store, lifted: Suppression) -> bool:
    """Give a suppressed subscriber back the status they had; their earlier bounces and
    complaints stop counting. False if their status changed meanwhile."""
    with store.transaction() as db:
        changed = db.execute(
            "UPDATE subscribers SET status = ?, unsubscribed_at = NULL "
            "WHERE email_key = ? AND status = ?",
            (lifted.before, lifted.email_key, lifted.status),
        ).rowcount
        if not changed:
            return False
        db.execute("DELETE FROM suppressions WHERE email_key = ?", (lifted.email_key,))
        db.execute("UPDATE bounce_events SET counts = 0 WHERE email_key = ?", (lifted.email_key,))
    return True


def events_of(store: Store, email_key: str) -> dict[BounceKind, int]:
    """How many bounces and complaints of each kind are on record for one subscriber."""
    rows = store.query_all(
        "SELECT kind, count(*) FROM bounce_events WHERE email_key = ? GROUP BY kind", (email_key,)
    )
    return {BounceKind(kind): int(count) for kind, count in rows}


# -- per digest ---------------------------------------------------------------------------------


def with_bounces(store: Store, statuses: Sequence[DigestStatus]) -> list[DigestStatus]:
    """The digests' statuses with the bounces and complaints traced to each, one per recipient."""
    return [_with_counts(store, status) for status in statuses]


def _with_counts(store: Store, status: DigestStatus) -> DigestStatus:
    rows = store.query_all(
        "SELECT kind, count(DISTINCT email_key) FROM bounce_events WHERE digest_id = ? "
        "GROUP BY kind",
        (status.id,),
    )
    counts = {str(kind): int(count) for kind, count in rows}
    return dataclasses.replace(
        status,
        hard_bounces=counts.get(BounceKind.HARD, 0),
        soft_bounces=counts.get(BounceKind.SOFT, 0),
        complaints=counts.get(BounceKind.COMPLAINT, 0),
    )


def untraced_counts(store: Store) -> dict[BounceKind, int]:
    """Bounces and complaints traced to a subscriber but to no digest (only an address named)."""
    rows = store.query_all(
        "SELECT kind, count(*) FROM bounce_events WHERE digest_id IS NULL GROUP BY kind"
    )
    return {BounceKind(kind): int(count) for kind, count in rows}
