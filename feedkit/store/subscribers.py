"""The subscriber list's queries: who is on it and in what state, what each chose, their requests
and confirmations, pauses, and the hashes of addresses that asked to be forgotten.

Every change that depends on what a row holds reads and writes it in one transaction, so two
requests for one address at once cannot both act on the same old state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feedkit.newsletter.model import (
    Audience,
    Confirmation,
    Request,
    Subscriber,
    SubscriberStatus,
)
from feedkit.store.db import Store

SELECT_SUBSCRIBERS = (
    "SELECT email_key, address, name, status, subscribed_at, unsubscribed_at, confirmed_at, "
    "paused_until, source, confirm_requested_at, confirm_sent_at FROM subscribers"
)
# Those a reader may bring back by confirming again; a complaint is never answered with mail.
MAY_CONFIRM = (
    SubscriberStatus.PENDING,
    SubscriberStatus.UNSUBSCRIBED,
    SubscriberStatus.BOUNCED,
)


def _text(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class NewSubscriber:
    """A row for `insert_subscribers`."""

    key: str
    address: str
    name: str = ""
    topics: tuple[str, ...] = ()
    status: SubscriberStatus = SubscriberStatus.ACTIVE


# -- reading ------------------------------------------------------------------------------------


def find_subscriber(store: Store, email_key: str) -> Subscriber | None:
    row = store.query_one(SELECT_SUBSCRIBERS + " WHERE email_key = ?", (email_key,))
    return None if row is None else _subscriber(row, _topics_of(store.db, email_key))


def list_subscribers(store: Store, status: str | None = None) -> list[Subscriber]:
    if status:
        query = SELECT_SUBSCRIBERS + " WHERE status = ? ORDER BY email_key"
        rows = store.query_all(query, (status,))
    else:
        rows = store.query_all(SELECT_SUBSCRIBERS + " ORDER BY email_key")
    chosen = _all_topics(store)
    return [_subscriber(row, chosen.get(str(row[0]), ())) for row in rows]


def _subscriber(row: Sequence[Any], topics: tuple[str, ...]) -> Subscriber:
    _, address, name, status, subscribed, unsubscribed, confirmed, paused, source, asked, sent = (
        row
    )
    return Subscriber(
        address,
        name,
        status,
        subscribed,
        unsubscribed,
        confirmed,
        paused,
        source,
        asked,
        sent,
        topics,
    )


def is_subscribed(store: Store, email_key: str) -> bool:
    row = store.query_one("SELECT status FROM subscribers WHERE email_key = ?", (email_key,))
    return row is not None and row[0] == SubscriberStatus.ACTIVE


def count_subscribed(store: Store, now: datetime | None = None) -> int:
    """Active subscribers; with `now`, only those not paused at that moment."""
    query = "SELECT count(*) FROM subscribers WHERE status = ?"
    if now is None:
        row = store.query_one(query, (SubscriberStatus.ACTIVE,))
    else:
        query += " AND (paused_until IS NULL OR paused_until <= ?)"
        row = store.query_one(query, (SubscriberStatus.ACTIVE, _text(now)))
    return int(row[0]) if row else 0


def counts_by_status(store: Store) -> dict[str, int]:
    rows = store.query_all("SELECT status, count(*) FROM subscribers GROUP BY status")
    return {str(status): int(count) for status, count in rows}


def active_counts_by_topic(store: Store) -> dict[str, int]:
    """How many active subscribers chose each topic ("" counts those who take everything)."""
    rows = store.query_all(
        "SELECT coalesce(t.topic, ''), count(*) FROM subscribers s "
        "LEFT JOIN subscriber_topics t ON t.email_key = s.email_key "
        "WHERE s.status = ? GROUP BY 1",
        (SubscriberStatus.ACTIVE,),
    )
    return {str(topic): int(count) for topic, count in rows}


def audience(store: Store, now: datetime) -> list[Audience]:
    """Everyone a digest made now goes to: active and not paused, with the topics each chose."""
    rows = store.query_all(
        "SELECT email_key FROM subscribers WHERE status = ? "
        "AND (paused_until IS NULL OR paused_until <= ?) ORDER BY email_key",
        (SubscriberStatus.ACTIVE, _text(now)),
    )
    chosen = _all_topics(store)
    return [Audience(str(key), frozenset(chosen.get(str(key), ()))) for (key,) in rows]


def is_forgotten(store: Store, address_hash: str) -> bool:
    found = store.query_one("SELECT 1 FROM forgotten WHERE address_hash = ?", (address_hash,))
    return found is not None


def deliveries_of(store: Store, email_key: str) -> list[tuple[int, str, str, str]]:
    """(digest, when made, subject, outcome) of every digest made for this address."""
    rows = store.query_all(
        "SELECT d.id, d.created_at, d.subject, v.status FROM deliveries v "
        "JOIN digests d ON d.id = v.digest_id WHERE v.email_key = ? ORDER BY d.id",
        (email_key,),
    )
    return [(int(i), str(at), str(subject), str(status)) for i, at, subject, status in rows]


def _topics_of(db: sqlite3.Connection, email_key: str) -> tuple[str, ...]:
    rows = db.execute(
        "SELECT topic FROM subscriber_topics WHERE email_key = ? ORDER BY topic", (email_key,)
    ).fetchall()
    return tuple(str(row[0]) for row in rows)


def _all_topics(store: Store) -> dict[str, tuple[str, ...]]:
    chosen: dict[str, list[str]] = {}
    for key, topic in store.query_all(
        "SELECT email_key, topic FROM subscriber_topics ORDER BY email_key, topic"
    ):
        chosen.setdefault(str(key), []).append(str(topic))
    return {key: tuple(topics) for key, topics in chosen.items()}


# -- editors' changes ---------------------------------------------------------------------------


def insert_subscribers(
    store: Store, rows: Sequence[NewSubscriber], now: datetime, source: str
) -> None:
    """New subscribers, in one transaction; an active one counts as confirmed now."""
    moment = _text(now)
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO subscribers (email_key, address, name, status, subscribed_at, "
            "confirmed_at, source, confirm_requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [_insert_values(row, moment, source) for row in rows],
        )
        db.executemany(
            "INSERT INTO subscriber_topics (email_key, topic) VALUES (?, ?)",
            [(row.key, topic) for row in rows for topic in row.topics],
        )


def _insert_values(row: NewSubscriber, moment: str, source: str) -> tuple[str | None, ...]:
    active = row.status is SubscriberStatus.ACTIVE
    confirmed = moment if active else None
    requested = moment if row.status is SubscriberStatus.PENDING else None
    return (row.key, row.address, row.name, row.status, moment, confirmed, source, requested)


def unsubscribe(store: Store, email_key: str, now: datetime) -> bool:
    """Mark an address unsubscribed; False if it was not subscribed (unknown, or already out).

    A pending request ends too: a confirmation link mailed before no longer brings it back.
    """
    with store.transaction() as db:
        changed = db.execute(
            "UPDATE subscribers SET status = ?, unsubscribed_at = ?, confirm_requested_at = NULL, "
            "paused_until = NULL WHERE email_key = ? AND status IN (?, ?)",
            (
                SubscriberStatus.UNSUBSCRIBED,
                _text(now),
                email_key,
                SubscriberStatus.ACTIVE,
                SubscriberStatus.PENDING,
            ),
        ).rowcount
    return changed > 0


# -- readers' requests --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ask:
    """One subscribe request: who, what they chose, and how the site answers it."""

    key: str
    address: str
    name: str
    topics: tuple[str, ...]
    now: datetime
    mail_interval: timedelta  # no second mail to one address sooner than this
    double_opt_in: bool = True


def request_subscription(store: Store, ask: Ask) -> tuple[Request, str]:
    """Record a subscribe request and say what to mail: (what, the open request's moment).

    A new address waits for confirmation (or is active at once without confirmed opt-in); one
    that left waits too, keeping its status until it confirms; an active one is left as it is.
    """
    with store.transaction() as db:
        row = db.execute(
            "SELECT status, confirm_requested_at, confirm_sent_at FROM subscribers "
            "WHERE email_key = ?",
            (ask.key,),
        ).fetchone()
        if row is None:
            return _new_request(db, ask)
        status, requested, sent = SubscriberStatus(row[0]), row[1], row[2]
        quiet = sent is not None and datetime.fromisoformat(sent) > ask.now - ask.mail_interval
        if status is SubscriberStatus.COMPLAINED or quiet:
            return Request.QUIET, requested or ""
        if status is SubscriberStatus.ACTIVE:
            _note_mail(db, ask.key, ask.now)
            return Request.REMIND, ""
        return _open_request(db, ask, status, requested)


def _new_request(db: sqlite3.Connection, ask: Ask) -> tuple[Request, str]:
    moment = _text(ask.now)
    status = SubscriberStatus.PENDING if ask.double_opt_in else SubscriberStatus.ACTIVE
    db.execute(
        "INSERT INTO subscribers (email_key, address, name, status, subscribed_at, confirmed_at, "
        "source, confirm_requested_at, confirm_sent_at) VALUES (?, ?, ?, ?, ?, ?, 'web', ?, ?)",
        (
            ask.key,
            ask.address,
            ask.name,
            status,
            moment,
            None if ask.double_opt_in else moment,
            moment if ask.double_opt_in else None,
            moment,
        ),
    )
    _replace_topics(db, ask.key, ask.topics)
    return (Request.CONFIRM, moment) if ask.double_opt_in else (Request.WELCOME, "")


def _open_request(
    db: sqlite3.Connection, ask: Ask, status: SubscriberStatus, requested: str | None
) -> tuple[Request, str]:
    """A pending address, or one that left: the open request stays (its links keep working)."""
    moment = requested or _text(ask.now)
    db.execute(
        "UPDATE subscribers SET confirm_requested_at = ?, confirm_sent_at = ? WHERE email_key = ?",
        (moment, _text(ask.now), ask.key),
    )
    if status is SubscriberStatus.PENDING:
        db.execute("UPDATE subscribers SET name = ? WHERE email_key = ?", (ask.name, ask.key))
    _replace_topics(db, ask.key, ask.topics)
    return Request.CONFIRM, moment


def _note_mail(db: sqlite3.Connection, email_key: str, now: datetime) -> None:
    db.execute(
        "UPDATE subscribers SET confirm_sent_at = ? WHERE email_key = ?", (_text(now), email_key)
    )


def note_confirmation_mail(store: Store, email_key: str, now: datetime) -> str | None:
    """An editor resends a confirmation: the open request's moment (opened now if none was)."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT status, confirm_requested_at FROM subscribers WHERE email_key = ?",
            (email_key,),
        ).fetchone()
        if row is None or row[0] not in MAY_CONFIRM:
            return None
        moment = row[1] or _text(now)
        db.execute(
            "UPDATE subscribers SET confirm_requested_at = ?, confirm_sent_at = ? "
            "WHERE email_key = ?",
            (moment, _text(now), email_key),
        )
    return str(moment)


def confirm(store: Store, email_key: str, requested_at: str, now: datetime) -> Confirmation:
    """Activate the address if the link answers its open request; a used link is spent."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT status, confirm_requested_at FROM subscribers WHERE email_key = ?",
            (email_key,),
        ).fetchone()
        if row is not None and row[0] == SubscriberStatus.ACTIVE:
            return Confirmation.ALREADY
        if row is None or row[0] not in MAY_CONFIRM or row[1] != requested_at:
            return Confirmation.STALE
        moment = _text(now)
        db.execute(
            "UPDATE subscribers SET status = ?, confirmed_at = ?, subscribed_at = ?, "
            "unsubscribed_at = NULL, confirm_requested_at = NULL, paused_until = NULL "
            "WHERE email_key = ?",
            (SubscriberStatus.ACTIVE, moment, moment, email_key),
        )
        return Confirmation.CONFIRMED


def set_topics(store: Store, email_key: str, topics: Iterable[str]) -> None:
    with store.transaction() as db:
        _replace_topics(db, email_key, tuple(topics))


def _replace_topics(db: sqlite3.Connection, email_key: str, topics: tuple[str, ...]) -> None:
    db.execute("DELETE FROM subscriber_topics WHERE email_key = ?", (email_key,))
    db.executemany(
        "INSERT INTO subscriber_topics (email_key, topic) VALUES (?, ?)",
        [(email_key, topic) for topic in sorted(set(topics))],
    )


def pause(store: Store, email_key: str, until: datetime | None) -> None:
    """No digest is made for the address until `until` (None: resume now)."""
    with store.transaction() as db:
        db.execute(
            "UPDATE subscribers SET paused_until = ? WHERE email_key = ?",
            (None if until is None else _text(until), email_key),
        )


def forget(store: Store, email_key: str, address_hash: str, now: datetime) -> bool:
    """Delete everything kept about an address; keep its hash so no import brings it back."""
    with store.transaction() as db:
        found = db.execute("DELETE FROM subscribers WHERE email_key = ?", (email_key,)).rowcount
        db.execute("DELETE FROM subscriber_topics WHERE email_key = ?", (email_key,))
        db.execute("DELETE FROM deliveries WHERE email_key = ?", (email_key,))
        db.execute(
            "INSERT INTO forgotten (address_hash, forgotten_at) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            (address_hash, _text(now)),
        )
    return found > 0


def remember_again(store: Store, address_hash: str) -> None:
    """The reader confirmed a new subscription: their address need not be kept out any more."""
    with store.transaction() as db:
        db.execute("DELETE FROM forgotten WHERE address_hash = ?", (address_hash,))


def forget_stale_requests(store: Store, before: datetime) -> int:
    """Pending addresses whose request is older than `before` are removed entirely."""
    arguments = (SubscriberStatus.PENDING, _text(before))
    with store.transaction() as db:
        db.execute(
            "DELETE FROM subscriber_topics WHERE email_key IN (SELECT email_key FROM subscribers "
            "WHERE status = ? AND confirm_requested_at < ?)",
            arguments,
        )
        return db.execute(
            "DELETE FROM subscribers WHERE status = ? AND confirm_requested_at < ?", arguments
        ).rowcount
