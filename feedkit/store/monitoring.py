"""What the service keeps about itself: each job's runs as totals, the numbers builds report,
incidents until their recovery is told, and the counts /metrics reads from other tables.
"""

from __future__ import annotations

from datetime import datetime

from feedkit.monitoring import Incident, JobRecord
from feedkit.newsletter.model import DeliveryStatus, SubscriberStatus
from feedkit.store.db import Store

REVIEWS_PUBLISHED = "build_reviews_published"  # as of the last build
FEEDS_WRITTEN = "build_feeds_written"  # files written by every build so far

_JOB_COLUMNS = (
    "name, runs, failures, failures_in_a_row, seconds_total, last_run_at, last_success_at, "
    "last_failure_at, last_error"
)


def record_job_run(
    store: Store, name: str, *, ok: bool, seconds: float, error: str, at: datetime
) -> JobRecord:
    """Add one run of a job to its totals, in one transaction; the new totals."""
    moment = at.isoformat(timespec="seconds")
    with store.transaction() as db:
        db.execute("INSERT OR IGNORE INTO jobs (name) VALUES (?)", (name,))
        if ok:
            db.execute(
                "UPDATE jobs SET runs = runs + 1, failures_in_a_row = 0, "
                "seconds_total = seconds_total + ?, last_run_at = ?, last_success_at = ?, "
                "last_error = '' WHERE name = ?",
                (seconds, moment, moment, name),
            )
        else:
            db.execute(
                "UPDATE jobs SET runs = runs + 1, failures = failures + 1, "
                "failures_in_a_row = failures_in_a_row + 1, seconds_total = seconds_total + ?, "
                "last_run_at = ?, last_failure_at = ?, last_error = ? WHERE name = ?",
                (seconds, moment, moment, error, name),
            )
    return job_records(store)[name]


def job_records(store: Store) -> dict[str, JobRecord]:
    rows = store.query_all(f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY name")  # noqa: S608 - ours
    return {str(row[0]): _job_record(row) for row in rows}


def _job_record(row: tuple[object, ...]) -> JobRecord:
    name, runs, failures, in_a_row, seconds, last_run, success, failure, error = row
    return JobRecord(
        str(name),
        int(str(runs)),
        int(str(failures)),
        int(str(in_a_row)),
        float(str(seconds)),
        _moment(last_run),
        _moment(success),
        _moment(failure),
        str(error),
    )


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


# -- counters -----------------------------------------------------------------------------------


def record_build_numbers(store: Store, published: int, written: int) -> None:
    """The reviews a build found published, and the files it wrote (added to the total)."""
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (REVIEWS_PUBLISHED, published))
        db.execute(
            "INSERT INTO counters VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (FEEDS_WRITTEN, written),
        )


def counters(store: Store) -> dict[str, float]:
    return {str(name): float(value) for name, value in store.query_all("SELECT * FROM counters")}


def subscriber_counts(store: Store) -> dict[str, int]:
    """Subscribers by status, every status named (0 where none)."""
    rows = dict(store.query_all("SELECT status, count(*) FROM subscribers GROUP BY status"))
    return {status.value: int(rows.get(status.value, 0)) for status in SubscriberStatus}


def delivery_counts(store: Store) -> dict[str, int]:
    """Deliveries of every digest by status, every status named (0 where none)."""
    rows = dict(store.query_all("SELECT status, count(*) FROM deliveries GROUP BY status"))
    return {status.value: int(rows.get(status.value, 0)) for status in DeliveryStatus}


def bounce_and_complaint_counts(store: Store) -> tuple[int, int]:
    """Bounces (hard and soft) and complaints read from returned mail so far, for /metrics."""
    rows = dict(store.query_all("SELECT kind, count(*) FROM bounce_events GROUP BY kind"))
    bounced = int(rows.get("hard_bounce", 0)) + int(rows.get("soft_bounce", 0))
    return bounced, int(rows.get("complaint", 0))


def digest_count(store: Store) -> int:
    row = store.query_one("SELECT count(*) FROM digests")
    return int(row[0]) if row else 0


# -- incidents ----------------------------------------------------------------------------------


def update_incidents(store: Store, current: dict[str, str], now: datetime) -> None:
    """Open an incident for each current problem not yet open; mark open ones that are no longer
    current as resolved (one that comes back before its recovery was told is simply open again).
    """
    moment = now.isoformat(timespec="seconds")
    with store.transaction() as db:
        known = {str(row[0]) for row in db.execute("SELECT name FROM incidents")}
        db.executemany(
            "INSERT INTO incidents (name, summary, opened_at) VALUES (?, ?, ?)",
            [(name, summary, moment) for name, summary in current.items() if name not in known],
        )
        db.executemany(
            "UPDATE incidents SET resolved_at = NULL WHERE name = ?",
            [(name,) for name in current if name in known],
        )
        db.executemany(
            "UPDATE incidents SET resolved_at = ? WHERE name = ? AND resolved_at IS NULL",
            [(moment, name) for name in known - current.keys()],
        )


def incidents(store: Store) -> list[Incident]:
    rows = store.query_all(
        "SELECT name, summary, opened_at, alerted_at, resolved_at FROM incidents ORDER BY name"
    )
    return [
        Incident(
            str(name), str(summary), datetime.fromisoformat(opened), _moment(told), _moment(end)
        )
        for name, summary, opened, told, end in rows
    ]


def claim_alert(store: Store, name: str, now: datetime) -> bool:
    """Take the telling of an open incident on: True for exactly one caller, however many
    processes look at once."""
    with store.transaction() as db:
        claimed = db.execute(
            "UPDATE incidents SET alerted_at = ? "
            "WHERE name = ? AND alerted_at IS NULL AND resolved_at IS NULL",
            (now.isoformat(timespec="seconds"), name),
        ).rowcount
    return claimed == 1


def unclaim_alert(store: Store, name: str) -> None:
    """Nobody could be told: try again at the next look."""
    with store.transaction() as db:
        db.execute("UPDATE incidents SET alerted_at = NULL WHERE name = ?", (name,))


def close_incident(store: Store, name: str) -> bool:
    """Forget a resolved incident; True for exactly one caller, who tells its recovery."""
    with store.transaction() as db:
        closed = db.execute(
            "DELETE FROM incidents WHERE name = ? AND resolved_at IS NOT NULL", (name,)
        ).rowcount
    return closed == 1


def reopen_resolved(store: Store, incident: Incident) -> None:
    """The recovery could not be told: keep the incident, resolved, to tell it at the next look."""
    with store.transaction() as db:
        db.execute(
            "INSERT OR IGNORE INTO incidents VALUES (?, ?, ?, ?, ?)",
            (
                incident.name,
                incident.summary,
                incident.opened_at.isoformat(timespec="seconds"),
                _text(incident.alerted_at),
                _text(incident.resolved_at),
            ),
        )


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
