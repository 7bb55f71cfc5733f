"""The state database's schema, as Python functions applied in order, each in one transaction.

A migration may rebuild a table (SQLite cannot change a CHECK constraint or a primary key in
place):
`rebuild_table` creates the new shape, copies the rows across and swaps the names. Applied
migrations are recorded by name; a database that has one this feedkit does not know was written by
a newer feedkit and is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def run(db: sqlite3.Connection, *statements: str) -> None:
    for statement in statements:
        db.execute(statement)


def rebuild_table(db: sqlite3.Connection, name: str, create: str, copy: str) -> None:
    """Give `name` a new shape: `create` makes `{name}_rebuilt`, `copy` is the SELECT that fills it
    from the old table; the indexes of the old table are the caller's to make again."""
    run(
        db,
        create.format(table=f"{name}_rebuilt"),
        f"INSERT INTO {name}_rebuilt {copy}",
        f"DROP TABLE {name}",
        f"ALTER TABLE {name}_rebuilt RENAME TO {name}",
    )


def build_cache(db: sqlite3.Connection) -> None:
    run(
        db,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE review_cache (
            source TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            content_hash TEXT NOT NULL, record TEXT NOT NULL)""",
        """CREATE TABLE entry_ids (
            source TEXT PRIMARY KEY, entry_id TEXT NOT NULL, first_seen TEXT NOT NULL)""",
        """CREATE TABLE outputs (
            path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, size INTEGER NOT NULL)""",
    )


def rendered_bodies(db: sqlite3.Connection) -> None:
    run(
        db,
        """CREATE TABLE rendered_bodies (
            source TEXT PRIMARY KEY, key TEXT NOT NULL, html TEXT NOT NULL, summary TEXT NOT
            NULL)""",
    )


def newsletter(db: sqlite3.Connection) -> None:
    run(
        db,
        """CREATE TABLE subscribers (
            email_key TEXT PRIMARY KEY, address TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('subscribed', 'unsubscribed')),
            subscribed_at TEXT NOT NULL, unsubscribed_at TEXT)""",
        """CREATE TABLE digests (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, since TEXT NOT NULL,
            subject TEXT NOT NULL, html TEXT NOT NULL, text TEXT NOT NULL,
            archive_url TEXT NOT NULL)""",
        """CREATE TABLE digest_items (
            source TEXT PRIMARY KEY, digest_id INTEGER NOT NULL REFERENCES digests (id))""",
        """CREATE TABLE review_seen (
            source TEXT PRIMARY KEY, first_seen TEXT NOT NULL, was_hidden INTEGER NOT NULL,
            public_at TEXT)""",
        DELIVERIES.format(table="deliveries", statuses="'pending', 'sent', 'failed', 'skipped'"),
        "CREATE INDEX deliveries_by_status ON deliveries (digest_id, status)",
        """CREATE TABLE locks (
            name TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
            acquired_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL)""",
    )


DELIVERIES = """CREATE TABLE {table} (
    digest_id INTEGER NOT NULL REFERENCES digests (id), email_key TEXT NOT NULL,
    address TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ({statuses})),
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (digest_id, email_key))"""


def lock_token(db: sqlite3.Connection) -> None:
    run(db, "ALTER TABLE locks ADD COLUMN token TEXT NOT NULL DEFAULT ''")


def admin_sessions(db: sqlite3.Connection) -> None:
    run(
        db,
        """CREATE TABLE admin_sessions (
            id_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL, password_key TEXT NOT NULL,
            created_at TEXT NOT NULL, expires_at TEXT NOT NULL)""",
        "CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at)",
    )


def delivery_unknown_and_digest_nonce(db: sqlite3.Connection) -> None:
    statuses = "'pending', 'sent', 'failed', 'skipped', 'unknown'"
    rebuild_table(
        db,
        "deliveries",
        DELIVERIES.replace("{statuses}", statuses),
        "SELECT digest_id, email_key, address, status, attempts, last_error, updated_at FROM "
        "deliveries",
    )
    run(
        db,
        "CREATE INDEX deliveries_by_status ON deliveries (digest_id, status)",
        "ALTER TABLE digests ADD COLUMN nonce TEXT NOT NULL DEFAULT ''",
    )


SUBSCRIBERS = """CREATE TABLE {table} (
    email_key TEXT PRIMARY KEY, address TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
    subscribed_at TEXT NOT NULL, unsubscribed_at TEXT, confirmed_at TEXT)"""


def audiences(db: sqlite3.Connection) -> None:
    """Subscribers who may be pending, bounced or complained; the topics each chose; digests made
    per run and segment, so one review can be in several digests of one run."""
    rebuild_table(
        db,
        "subscribers",
        SUBSCRIBERS,
        "SELECT email_key, address, name, "
        "CASE status WHEN 'subscribed' THEN 'active' ELSE status END, "
        "subscribed_at, unsubscribed_at, subscribed_at FROM subscribers",
    )
    rebuild_table(
        db,
        "digest_items",
        """CREATE TABLE {table} (
            digest_id INTEGER NOT NULL REFERENCES digests (id), source TEXT NOT NULL,
            position INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (digest_id, source))""",
        "SELECT digest_id, source, rowid FROM digest_items",
    )
    run(
        db,
        "CREATE INDEX digest_items_by_source ON digest_items (source)",
        """CREATE TABLE subscriber_topics (
            email_key TEXT NOT NULL REFERENCES subscribers (email_key), topic TEXT NOT NULL,
            PRIMARY KEY (email_key, topic))""",
        "ALTER TABLE digests ADD COLUMN run_id INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE digests ADD COLUMN segment TEXT NOT NULL DEFAULT ''",
        "UPDATE digests SET run_id = id",
    )


def subscriber_lifecycle(db: sqlite3.Connection) -> None:
    """What a reader's own choices need: where the subscription came from, a pending request and
    the last confirmation mail (links and the per-address limit), a pause; and the addresses of
    readers who asked to be forgotten, kept only as keyed hashes so no import brings them back."""
    run(
        db,
        "ALTER TABLE subscribers ADD COLUMN source TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE subscribers ADD COLUMN confirm_requested_at TEXT",
        "ALTER TABLE subscribers ADD COLUMN confirm_sent_at TEXT",
        "ALTER TABLE subscribers ADD COLUMN paused_until TEXT",
        "CREATE INDEX subscribers_by_status ON subscribers (status)",
        """CREATE TABLE forgotten (
            address_hash TEXT PRIMARY KEY, forgotten_at TEXT NOT NULL)""",
    )


def bounces(db: sqlite3.Connection) -> None:
    """Every returned message read (so none counts twice), the bounces and complaints traced to
    subscribers, and what each suppressed subscriber was before (for an editor to restore)."""
    run(
        db,
        """CREATE TABLE bounce_messages (
            message_key TEXT PRIMARY KEY, received_at TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('recorded', 'ignored', 'kept')),
            kind TEXT NOT NULL, reason TEXT NOT NULL, kept_file TEXT)""",
        """CREATE TABLE bounce_events (
            id INTEGER PRIMARY KEY,
            message_key TEXT NOT NULL REFERENCES bounce_messages (message_key),
            email_key TEXT NOT NULL, digest_id INTEGER REFERENCES digests (id),
            kind TEXT NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'complaint')),
            found_by TEXT NOT NULL CHECK (found_by IN ('token', 'message-id', 'address')),
            occurred_at TEXT NOT NULL, status TEXT, diagnostic TEXT,
            counts INTEGER NOT NULL DEFAULT 1, UNIQUE (message_key, email_key))""",
        "CREATE INDEX bounce_events_by_subscriber ON bounce_events (email_key, kind, occurred_at)",
        "CREATE INDEX bounce_events_by_digest ON bounce_events (digest_id, kind)",
        """CREATE TABLE suppressions (
            email_key TEXT PRIMARY KEY, status TEXT NOT NULL, status_before TEXT NOT NULL,
            since TEXT NOT NULL)""",
    )


def operations(db: sqlite3.Connection) -> None:
    """What the service keeps about itself: each job's runs (totals, not a row per run, so the
    table never grows), numbers builds report, and incidents until their recovery is told."""
    run(
        db,
        """CREATE TABLE jobs (
            name TEXT PRIMARY KEY, runs INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0, failures_in_a_row INTEGER NOT NULL DEFAULT 0,
            seconds_total REAL NOT NULL DEFAULT 0, last_run_at TEXT, last_success_at TEXT,
            last_failure_at TEXT, last_error TEXT NOT NULL DEFAULT '')""",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value REAL NOT NULL)",
        """CREATE TABLE incidents (
            name TEXT PRIMARY KEY, summary TEXT NOT NULL, opened_at TEXT NOT NULL,
            alerted_at TEXT, resolved_at TEXT)""",
    )


def smtp_refusals(db: sqlite3.Connection) -> None:
    """A recipient refused during the SMTP conversation (a 5xx to RCPT) is a bounce traced by the
    delivery itself: `found_by` takes 'smtp-reply'. SQLite cannot widen a CHECK in place."""
    rebuild_table(
        db,
        "bounce_events",
        """CREATE TABLE {table} (
            id INTEGER PRIMARY KEY,
            message_key TEXT NOT NULL REFERENCES bounce_messages (message_key),
            email_key TEXT NOT NULL, digest_id INTEGER REFERENCES digests (id),
            kind TEXT NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'complaint')),
            found_by TEXT NOT NULL
                CHECK (found_by IN ('token', 'message-id', 'address', 'smtp-reply')),
            occurred_at TEXT NOT NULL, status TEXT, diagnostic TEXT,
            counts INTEGER NOT NULL DEFAULT 1, UNIQUE (message_key, email_key))""",
        "SELECT id, message_key, email_key, digest_id, kind, found_by, occurred_at, status, "
        "diagnostic, counts FROM bounce_events",
    )
    run(
        db,
        "CREATE INDEX bounce_events_by_subscriber ON bounce_events (email_key, kind, occurred_at)",
        "CREATE INDEX bounce_events_by_digest ON bounce_events (digest_id, kind)",
    )


# In order; a name, once released, never changes.
MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("0001_build_cache", build_cache),
    ("0002_rendered_bodies", rendered_bodies),
    ("0003_newsletter", newsletter),
    ("0004_lock_token", lock_token),
    ("0005_admin_sessions", admin_sessions),
    ("0006_delivery_unknown_and_digest_nonce", delivery_unknown_and_digest_nonce),
    ("0007_audiences", audiences),
    ("0008_subscriber_lifecycle", subscriber_lifecycle),
    ("0009_bounces", bounces),
    ("0010_operations", operations),
    ("0011_smtp_refusals", smtp_refusals),
)
