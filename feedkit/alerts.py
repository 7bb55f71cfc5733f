"""Telling someone when the service goes wrong. A job that fails `failures` times in a row, or a
due digest still not out `digest_late_minutes` after its time, is an incident: it is told once
when it opens and once when it recovers, by mail to [alerts] to and/or a POST to the webhook (and
always in the log). After every job that went through, the dead man's switch is pinged, so an
outside monitor notices when the service falls silent.

Incidents live in the state database, so a restart neither repeats an alert nor forgets a
recovery; each telling is claimed in a transaction, so two processes never tell one twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from feedkit import notify, operations
from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.monitoring import Incident, failing_summary
from feedkit.store import monitoring as watch
from feedkit.store.db import Store, open_store

log = logging.getLogger("feedkit")
_LOOKING = threading.Lock()  # two jobs that end together look one after the other


def after_job(config: Config, name: str, *, ok: bool, seconds: float, error: str) -> None:
    """Record a scheduled job's run, ping the dead man's switch if it went through, then look for
    incidents opening or closing."""
    operations.record_job_run(config, name, ok=ok, seconds=seconds, error=error)
    if ok and config.alerts.ping_url:
        _attempt("ping", lambda: notify.ping(config.alerts.ping_url))
    look(config)


def look(config: Config, now: datetime | None = None) -> None:
    """Open and close incidents as the state database shows them; tell whatever is untold."""
    moment = now or datetime.now(UTC)
    with _LOOKING, open_store(config) as store:
        watch.update_incidents(store, current_incidents(config, store, moment), moment)
        for incident in watch.incidents(store):
            _tell_if_untold(config, store, incident, moment)


def current_incidents(config: Config, store: Store, now: datetime) -> dict[str, str]:
    """Each problem that makes an incident now, by the incident's stable name."""
    found = {
        f"job-{record.name}": failing_summary(record)
        for record in watch.job_records(store).values()
        if record.failures_in_a_row >= config.alerts.failures
    }
    late = operations.late_digest(config, store, now)
    if late:
        found["digest-late"] = late
    return found


def _tell_if_untold(config: Config, store: Store, incident: Incident, now: datetime) -> None:
    if incident.resolved_at is None:
        claimed = incident.alerted_at is None and watch.claim_alert(store, incident.name, now)
        if claimed and not tell(config, _notice(config, "alert", incident, now)):
            watch.unclaim_alert(store, incident.name)
        return
    # Resolved: a recovery is told only of an incident whose alert went out.
    closed = watch.close_incident(store, incident.name) and incident.alerted_at is not None
    if closed and not tell(config, _notice(config, "recovered", incident, now)):
        watch.reopen_resolved(store, incident)


def tell(config: Config, notice: notify.Notice) -> bool:
    """Log the notice and send it everywhere [alerts] names; True if anyone could be told (the log
    alone, when nothing else is set)."""
    if notice.event == "alert":
        log.error("alert: %s", notice.summary)
    else:
        log.info("alert: recovered: %s", notice.summary)
    settings = config.alerts
    attempts = []
    if settings.to:
        attempts.append(_attempt("mail", lambda: notify.mail_notice(config, notice)))
    if settings.webhook_url:
        attempts.append(
            _attempt("webhook", lambda: notify.post_notice(settings.webhook_url, notice))
        )
    return not attempts or any(attempts)


def _notice(config: Config, event: str, incident: Incident, now: datetime) -> notify.Notice:
    return notify.Notice(
        event, incident.name, incident.summary, config.site.title, incident.opened_at, now
    )


def _attempt(what: str, action: Callable[[], None]) -> bool:
    """Do it; a failure is one log line, never a stopped job."""
    try:
        action()
    except FeedkitError as error:
        log.warning("alerts: %s failed: %s", what, error)
        return False
    return True
