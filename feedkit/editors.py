"""The editors' sessions, as the web side's use cases: made at login, found on every request,
ended at logout. A new password hash ends every session made with the old one."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from feedkit.config import Config
from feedkit.store import sessions
from feedkit.store.db import open_store

SESSION_LIFETIME = timedelta(hours=12)
AdminSession = sessions.AdminSession  # what the web side sees of a session


def password_key(password_hash: str) -> str:
    """A short key of the password hash: each session keeps it, so a new hash ends them all."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def start_session(config: Config, password_hash: str) -> tuple[str, AdminSession]:
    """A new session: the value for its cookie, and what it holds."""
    with open_store(config) as store:
        now = datetime.now(UTC)
        return sessions.start(store, password_key(password_hash), now, SESSION_LIFETIME)


def find_session(config: Config, session_id: str, password_hash: str) -> AdminSession | None:
    """The live session with this id, if it was made with the current password hash."""
    with open_store(config, readonly=True) as store:
        session = sessions.find(store, session_id, datetime.now(UTC))
    if session is None or session.password_key != password_key(password_hash):
        return None
    return session


def end_session(config: Config, session_id: str) -> None:
    with open_store(config) as store:
        sessions.end(store, session_id, datetime.now(UTC))
