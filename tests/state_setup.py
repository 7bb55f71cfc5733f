"""Active subscribers and frozen digests written straight into the state database: set-up for the
tests of returned mail, which do not depend on how readers join or how a send splits its digests.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from feedkit.config import Config
from feedkit.newsletter.messages import DigestMessages
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from feedkit.tokens import Tokens


def add_readers(
    config: Config, addresses: Iterable[str], at: str = "2025-01-01T00:00:00+00:00"
) -> None:
    """Active subscribers, as an editor with every reader's consent would add them."""
    rows = [(address.lower(), address, "", "active", at, at) for address in addresses]
    with Store(config.database_path) as store, store.transaction() as db:
        db.executemany(
            "INSERT INTO subscribers (email_key, address, name, status, subscribed_at, "
            "confirmed_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )


def freeze(config: Config, created: datetime, secret: str) -> DigestMessages:
    """A digest frozen with one pending delivery per active subscriber, and its messages."""
    moment = created.isoformat()
    with Store(config.database_path) as store:
        with store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO digests (created_at, since, subject, html, text, archive_url, nonce) "
                "VALUES (?, ?, 'Test Reviews', '<p>Two films.</p>', 'Two films.', '', ?)",
                (moment, moment, secrets.token_hex(4)),
            )
            assert cursor.lastrowid is not None, "the digest row was not written"
            digest_id = cursor.lastrowid
            db.execute(
                "INSERT INTO deliveries (digest_id, email_key, address, status, updated_at) "
                "SELECT ?, email_key, address, 'pending', ? FROM subscribers "
                "WHERE status = 'active'",
                (digest_id, moment),
            )
        digest = mailstate.load_digest(store, digest_id)
    return DigestMessages(config, digest, Tokens(secret.encode()))
