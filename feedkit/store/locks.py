"""The send lock: one digest sender at a time, whichever shell started it.

The holder refreshes a heartbeat on a timer of its own; a lock whose holder died (or went silent)
is taken over, so a killed process never blocks sending for good.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedkit.errors import LockedError
from feedkit.monitoring import LockHolder
from feedkit.store.db import Store, utc_text

STALE_LOCK_AFTER = timedelta(seconds=90)  # a holder whose heartbeat is this old is gone
_HELD_HERE: set[str] = set()  # tokens of the locks this process holds right now


HEARTBEAT_SECONDS = 20  # a holder refreshes its lock this often, on a timer of its own


@contextmanager
def send_lock(store: Store) -> Iterator[None]:
    """Only one sender at a time, whichever shell started it; a lock left by a dead process is
    taken over."""
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
        now = utc_text()
        db.execute(
            "INSERT OR REPLACE INTO locks VALUES ('digest', ?, ?, ?, ?, ?)",
            (host, pid, now, now, token),
        )
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


def current_holder(store: Store) -> LockHolder | None:
    """Who is sending a digest now; None when nobody is (a lock left by a dead process is no
    holder)."""
    row = store.query_one(
        "SELECT host, pid, acquired_at, heartbeat_at, token FROM locks WHERE name = 'digest'"
    )
    if row is None or not _is_alive(*row):
        return None
    return LockHolder(str(row[0]), int(row[1]), datetime.fromisoformat(row[2]))


def _beat_until(database: Path, token: str, done: threading.Event) -> None:
    """Refresh the lock's heartbeat on a timer, however slowly messages go out."""
    with Store(database) as store:
        while not done.wait(HEARTBEAT_SECONDS):
            with store.transaction() as db:
                db.execute(
                    "UPDATE locks SET heartbeat_at = ? WHERE token = ?", (utc_text(), token)
                )


def _is_alive(host: str, pid: int, _acquired_at: str, heartbeat_at: str, token: str) -> bool:
    """Is the process that wrote this lock row still sending?"""
    if datetime.now(UTC) - datetime.fromisoformat(heartbeat_at) > STALE_LOCK_AFTER:
        return False  # no heartbeat for minutes: its holder is gone, wherever it ran
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        # This very process: alive only if it holds this lock now (a nested send). Otherwise the
        # row is
        # from an earlier process with the same PID, e.g. a restarted container where every PID is
        # 1.
        return token in _HELD_HERE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
