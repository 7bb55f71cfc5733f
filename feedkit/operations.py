"""What the service keeps and checks about itself: its heartbeat, when it first started, when the
digest last ran, whether a digest came due while it was down, and whether it can start at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from feedkit.config import Config
from feedkit.content.files import require_content_folder
from feedkit.newsletter import campaigns
from feedkit.store import newsletter as records
from feedkit.store.db import create_new_state, open_store

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
