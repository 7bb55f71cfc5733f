"""The service's health and numbers as plain values: each job's record, the send lock's holder, an
incident, the health verdict and what /metrics counts. No I/O: the store fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

JOBS = ("build", "digest")  # the scheduled jobs whose runs are recorded


@dataclass(frozen=True, slots=True)
class JobRecord:
    """Every run of one job, summed up: kept as totals, so the record never grows."""

    name: str
    runs: int = 0
    failures: int = 0
    failures_in_a_row: int = 0
    seconds_total: float = 0.0
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str = ""

    @property
    def failing(self) -> bool:
        """Its latest run failed."""
        return self.failures_in_a_row > 0


@dataclass(frozen=True, slots=True)
class LockHolder:
    """The process sending a digest right now."""

    host: str
    pid: int
    since: datetime

    def __str__(self) -> str:
        return f"process {self.pid} on {self.host} since {_iso(self.since)}"


@dataclass(frozen=True, slots=True)
class Incident:
    """Something an operator must hear of, from when it began until its recovery is told."""

    name: str  # stable: 'job-build', 'job-digest', 'digest-late'
    summary: str
    opened_at: datetime
    alerted_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """What /healthz answers and `feedkit status` prints; unhealthy when `problems` has any."""

    checked_at: datetime
    heartbeat_at: datetime | None
    jobs: dict[str, JobRecord]
    last_digest: tuple[int, datetime] | None  # the newest digest's number and when it was made
    pending_deliveries: int
    lock_holder: LockHolder | None
    problems: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def heartbeat_age(self) -> float | None:
        """Seconds since the service last said it was alive."""
        if self.heartbeat_at is None:
            return None
        return round((self.checked_at - self.heartbeat_at).total_seconds(), 1)

    def as_json(self) -> dict[str, object]:
        """The /healthz body; its keys are stable (see the README)."""
        digest = self.jobs.get("digest")
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "problems": list(self.problems),
            "checked_at": _iso(self.checked_at),
            "heartbeat_age_seconds": self.heartbeat_age,
            "last_build": _job_json(self.jobs.get("build")),
            "last_digest": {
                **(_job_json(digest) or {}),
                "digest": None
                if self.last_digest is None
                else {"id": self.last_digest[0], "made_at": _iso(self.last_digest[1])},
            },
            "pending_deliveries": self.pending_deliveries,
            "lock_holder": None
            if self.lock_holder is None
            else {
                "host": self.lock_holder.host,
                "pid": self.lock_holder.pid,
                "since": _iso(self.lock_holder.since),
            },
        }

    def lines(self) -> list[str]:
        """The same, as `feedkit status` prints it."""
        age = self.heartbeat_age
        lines = [
            f"status: {'ok' if self.healthy else 'unhealthy'}",
            f"heartbeat: {'none' if age is None else f'{age:.0f} s ago'}",
            f"last build: {_job_line(self.jobs.get('build'))}",
            f"last digest run: {_job_line(self.jobs.get('digest'))}",
        ]
        if self.last_digest is not None:
            number, made = self.last_digest
            lines.append(f"newest digest: #{number}, made {_iso(made)}")
        lines.append(f"pending deliveries: {self.pending_deliveries}")
        lines.append(f"send lock: {self.lock_holder or 'free'}")
        lines.extend(f"problem: {problem}" for problem in self.problems)
        return lines


def health_problems(
    heartbeat_at: datetime | None,
    now: datetime,
    stale_after: timedelta,
    jobs: dict[str, JobRecord],
    late_digest: str,
) -> tuple[str, ...]:
    """Why the service is unhealthy: a stale heartbeat, a job whose latest run failed, or a digest
    that is late; an empty tuple when it is well."""
    problems = []
    if heartbeat_at is None:
        problems.append("no heartbeat: the service has never run here")
    elif now - heartbeat_at > stale_after:
        minutes = int(stale_after.total_seconds() // 60)
        age = int((now - heartbeat_at).total_seconds())
        problems.append(f"heartbeat {age} s old (over {minutes} min): the service is not running")
    for name in JOBS:
        record = jobs.get(name)
        if record is not None and record.failing:
            problems.append(failing_summary(record))
    if late_digest:
        problems.append(late_digest)
    return tuple(problems)


def failing_summary(record: JobRecord) -> str:
    """One line naming the job, how often it failed in a row, and its last error."""
    times = "once" if record.failures_in_a_row == 1 else f"{record.failures_in_a_row} times"
    error = f": {record.last_error}" if record.last_error else ""
    return f"{record.name} failed {times} in a row{error}"


@dataclass(frozen=True, slots=True)
class Numbers:
    """What /metrics counts, read from the state database at the moment of the scrape."""

    jobs: dict[str, JobRecord]
    reviews_published: int
    feeds_written: int
    digests: int
    deliveries: dict[str, int]  # by delivery status
    subscribers: dict[str, int]  # by subscriber status
    bounces: int
    complaints: int
    lock_held: bool
    heartbeat_at: datetime | None
    healthy: bool


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _job_json(record: JobRecord | None) -> dict[str, object] | None:
    if record is None or record.last_run_at is None:
        return None
    return {
        "at": _iso(record.last_run_at),
        "ok": not record.failing,
        "last_success_at": _iso(record.last_success_at) if record.last_success_at else None,
        "error": record.last_error if record.failing else None,
    }


def _job_line(record: JobRecord | None) -> str:
    if record is None or record.last_run_at is None:
        return "never run by the service"
    if record.failing:
        return f"{_iso(record.last_run_at)}, {failing_summary(record)}"
    return f"{_iso(record.last_run_at)}, ok"
