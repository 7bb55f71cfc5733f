"""What the service keeps and checks about itself: its heartbeat, when it first started, when the
digest last ran, whether a digest came due while it was down, and whether it can start at all;
its health and numbers as others read them; backing its database up and restoring it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedkit.config import Config
from feedkit.content.files import require_content_folder
from feedkit.errors import ConfigError, LockedError, StateError
from feedkit.monitoring import Health, JobRecord, Numbers, health_problems
from feedkit.newsletter import campaigns
from feedkit.schedule import check_schedule
from feedkit.store import backup as copies
from feedkit.store import locks
from feedkit.store import monitoring as watch
from feedkit.store import newsletter as records
from feedkit.store.db import Store, create_new_state, open_store

FIRST_START_KEY = "service_first_start"
HEARTBEAT_KEY = "service_heartbeat"
DIGEST_RUN_KEY = "digest_last_run"
NextTime = Callable[[datetime], datetime | None]  # the schedule's next time at or after a moment


def check_ready(config: Config, *, build: bool, digest: bool) -> None:
    """Everything the enabled jobs will need, checked before anything starts: a missing secret or
    template fails now, in one line, not when the digest comes due days later."""
    if build:
        require_content_folder(config)
    if digest:
        campaigns.check_ready(config)


def record_heartbeat(config: Config) -> None:
    with open_store(config) as store:
        store.set_meta(HEARTBEAT_KEY, datetime.now(UTC).isoformat(timespec="seconds"))


def record_digest_run(config: Config) -> None:
    """A digest run went through (even one that found nothing new)."""
    with open_store(config) as store:
        store.set_meta(DIGEST_RUN_KEY, datetime.now(UTC).isoformat())


def digest_due(config: Config, next_time: NextTime, now: datetime) -> bool:
    """True if the digest's time came after the last digest run (or the service's first start)."""
    with open_store(config) as store:
        first_start = store.get_meta(FIRST_START_KEY)
        if first_start is None:
            store.set_meta(FIRST_START_KEY, now.isoformat())
            return False  # a brand-new service has missed nothing
        moments = [first_start, store.get_meta(DIGEST_RUN_KEY)]
        last_digest = records.last_digest_time(store)
    reference = max(datetime.fromisoformat(moment) for moment in moments if moment)
    if last_digest is not None:
        reference = max(reference, last_digest)
    # Strictly after the reference: a run at 08:00:00 exactly is that 08:00's run, not a missed
    # one.
    due = next_time(reference + timedelta(seconds=1))
    return due is not None and due <= now


def accept_new_state(config: Config) -> None:
    """The operator's `--new-state`: start a blank state database where an earlier one was lost."""
    create_new_state(config)


# -- what the service's jobs leave behind -----------------------------------------------------


def record_job_run(
    config: Config, name: str, *, ok: bool, seconds: float, error: str
) -> JobRecord:
    """One run of a scheduled job, added to its totals; the job's record as it now stands."""
    with open_store(config) as store:
        now = datetime.now(UTC)
        return watch.record_job_run(store, name, ok=ok, seconds=seconds, error=error, at=now)


def record_build_numbers(config: Config, published: int, written: int) -> None:
    with open_store(config) as store:
        watch.record_build_numbers(store, published, written)


# -- health and numbers -----------------------------------------------------------------------


def health(config: Config, now: datetime | None = None) -> Health:
    """What /healthz answers and `feedkit status` prints, read without writing anything."""
    moment = now or datetime.now(UTC)
    if not config.database_path.is_file():  # looked at, never made: a read writes nothing
        problem = f"no state database at {config.database_path}: the service has never run here"
        return Health(moment, None, {}, None, 0, None, (problem,))
    with open_store(config, readonly=True) as store:
        heartbeat = _heartbeat(store)
        jobs = watch.job_records(store)
        stale_after = timedelta(minutes=config.alerts.stale_after_minutes)
        late = late_digest(config, store, moment)
        return Health(
            checked_at=moment,
            heartbeat_at=heartbeat,
            jobs=jobs,
            last_digest=records.last_digest(store),
            pending_deliveries=_pending(store),
            lock_holder=locks.current_holder(store),
            problems=health_problems(heartbeat, moment, stale_after, jobs, late),
        )


def numbers(config: Config) -> Numbers:
    """What /metrics counts, read without writing anything."""
    verdict = health(config)
    if not config.database_path.is_file():
        return Numbers(
            {}, 0, 0, 0, {}, {}, 0, 0, lock_held=False, heartbeat_at=None, healthy=False
        )
    with open_store(config, readonly=True) as store:
        counted = watch.counters(store)
        bounces, complaints = watch.bounce_and_complaint_counts(store)
        return Numbers(
            jobs=verdict.jobs,
            reviews_published=int(counted.get(watch.REVIEWS_PUBLISHED, 0)),
            feeds_written=int(counted.get(watch.FEEDS_WRITTEN, 0)),
            digests=watch.digest_count(store),
            deliveries=watch.delivery_counts(store),
            subscribers=watch.subscriber_counts(store),
            bounces=bounces,
            complaints=complaints,
            lock_held=verdict.lock_holder is not None,
            heartbeat_at=verdict.heartbeat_at,
            healthy=verdict.healthy,
        )


def late_digest(config: Config, store: Store, now: datetime) -> str:
    """Why the digest is late, when one came due and has not gone out `digest_late_minutes`
    after its time; "" when it is not (or the digest is off)."""
    try:
        trigger = check_schedule(config).get("digest")
    except ConfigError:
        return ""  # the service refuses to start with it; its log says why
    reference = _digest_gone_out(store)
    if trigger is None or reference is None:
        return ""
    due = trigger.get_next_fire_time(None, reference + timedelta(seconds=1))
    grace = timedelta(minutes=config.alerts.digest_late_minutes)
    if due is None or due + grace > now:
        return ""
    when = due.astimezone(UTC).isoformat(timespec="minutes")
    return f"digest late: due at {when} and not out after {config.alerts.digest_late_minutes} min"


def _digest_gone_out(store: Store) -> datetime | None:
    """The latest moment the digest is known to have gone out (or the service to have started,
    before which nothing was due); None if the service never started here."""
    moments = [store.get_meta(FIRST_START_KEY), store.get_meta(DIGEST_RUN_KEY)]
    known = [datetime.fromisoformat(moment) for moment in moments if moment]
    newest = records.last_digest(store)
    if newest is not None and not records.unfinished_digests(store):
        known.append(newest[1])
    return max(known) if known and moments[0] else None


def _heartbeat(store: Store) -> datetime | None:
    recorded = store.get_meta(HEARTBEAT_KEY)
    return datetime.fromisoformat(recorded) if recorded else None


def _pending(store: Store) -> int:
    unfinished = records.unfinished_digests(store)
    return sum(len(records.pending_deliveries(store, digest)) for digest in unfinished)


# -- backup and restore -------------------------------------------------------------------------


def backup(config: Config, target: Path) -> int:
    """A consistent copy of the state database at `target`, even while a send writes to it; the
    copy's size in bytes."""
    return copies.backup_database(config.database_path, target)


def restore(
    config: Config, source: Path, *, force: bool = False, now: datetime | None = None
) -> Path | None:
    """Put a backup in place of the state database, then bring it up to this feedkit's schema.

    A database with migrations the backup lacks is newer than it and is refused unless `force`;
    so is any restore while a digest is being sent. What was there is copied aside first; its
    path is returned (None when there was nothing).
    """
    restored = copies.backup_migrations(source)
    target = config.database_path
    current = copies.database_migrations(target)
    newer = sorted(current - restored)
    if newer and not force:
        raise StateError(
            f"{target}: is newer than {source} (it has {', '.join(newer)}; the backup has not)",
            "pass --force to replace it all the same (a copy of it is kept)",
        )
    holder = copies.sender_of(target)
    if holder is not None:
        raise LockedError(f"a digest is being sent ({holder})", "wait for it, then restore")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    there = target.is_file() and target.stat().st_size > 0  # even damaged: kept, not lost
    kept = target.with_name(f"{target.name}.before-restore-{stamp}") if there else None
    copies.restore_database(source, target, kept)
    with open_store(config):
        pass  # an older backup gets the migrations made since
    return kept
