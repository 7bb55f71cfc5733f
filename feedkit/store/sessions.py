"""The editors' sessions, kept in the state database: made at login, ended by logout or expiry.

The cookie holds a random id, the database only its SHA-256: a copy of the database opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feedkit.store.db import Store


@dataclass(frozen=True, slots=True)
class AdminSession:
    """A live session: its forms' CSRF token and a key of the password hash it was made with."""

    csrf: str
    password_key: str


def start(
    store: Store,
    password_key: str,
    now: datetime,
    lifetime: timedelta,
) -> tuple[str, AdminSession]:
    """A new session (its cookie value and contents); sessions already expired are deleted."""
    session_id = secrets.token_urlsafe(32)
    session = AdminSession(csrf=secrets.token_urlsafe(24), password_key=password_key)
    with store.transaction() as db:
        db.execute("DELETE FROM admin_sessions WHERE expires_at <= ?", (_text(now),))
        db.execute(
            "INSERT INTO admin_sessions VALUES (?, ?, ?, ?, ?)",
            (_hash(session_id), session.csrf, password_key, _text(now), _text(now + lifetime)),
        )
    return session_id, session


def find(store: Store, session_id: str, now: datetime) -> AdminSession | None:
    """The live session with this id, or None when there is none or it has expired."""
    row = store.query_one(
        "SELECT csrf, password_key FROM admin_sessions WHERE id_hash = ? AND expires_at > ?",
        (_hash(session_id), _text(now)),
    )
    return None if row is None else AdminSession(csrf=str(row[0]), password_key=str(row[1]))


def end(store: Store, session_id: str, now: datetime) -> None:
    """Forget this session, and any that have expired."""
    with store.transaction() as db:
        db.execute(
            "DELETE FROM admin_sessions WHERE id_hash = ? OR expires_at <= ?",
            (_hash(session_id), _text(now)),
        )


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _text(moment: datetime) -> str:
    """UTC with a fixed shape, so text order is time order in SQL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
