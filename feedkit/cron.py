"""Standard cron expressions as APScheduler triggers, with the day-of-week numbering cron users know.

Cron counts Sunday as 0 (and 7); APScheduler counts Monday as 0. Numbers are turned into day
names before APScheduler sees them, so `0 8 * * 5` is Friday, as everywhere else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from feedkit.config import Config, cron_error
from feedkit.errors import ConfigError

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMERIC_ITEM = re.compile(r"^(\*|\d+)(?:-(\d+))?(?:/(\d+))?$")


class CronError(ValueError):
    """Not a cron expression feedkit can schedule."""


class WallClockCron(CronTrigger):  # type: ignore[misc]  # APScheduler ships no type hints
    """A CronTrigger that is safe across the autumn clock change.

    APScheduler 3.x, given a moment inside the repeated hour, can answer a time *before* it (so a
    job would fire again and again), and fires a fixed-time job in both passes of that hour. Here
    every answer is later than the last run and not before `now`, and a job whose wall-clock time
    is the same as its last run's (01:30, then 01:30 again an hour later) runs once, as cron does.
    """

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        # Compared in UTC: datetimes sharing a tzinfo compare by wall time, blind to the repeated hour.
        floor = max(_utc(now), _utc(previous) + _TICK) if previous else _utc(now)
        for _ in range(_MAX_STEPS):
            candidate: datetime | None = super().get_next_fire_time(None, floor)
            if candidate is None:
                return None
            if _utc(candidate) < floor:
                candidate = candidate.replace(fold=1)  # the same wall time, in the second pass
            if _utc(candidate) >= floor and not _same_wall_time(candidate, previous):
                return candidate
            floor = max(floor, _utc(candidate)) + timedelta(minutes=1)
        return None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


_TICK = timedelta(microseconds=1)
_MAX_STEPS = 500


def _same_wall_time(candidate: datetime, previous: datetime | None) -> bool:
    if previous is None:
        return False
    zone = candidate.tzinfo
    return candidate.astimezone(zone).replace(tzinfo=None, fold=0) == previous.astimezone(zone).replace(
        tzinfo=None, fold=0
    )


def parse_cron(expression: str, zone: tzinfo) -> CronTrigger:
    """A 5-field cron expression (minute hour day month weekday); 6 fields put seconds first."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise CronError(f"it has {len(fields)} fields, cron has 5: minute hour day month weekday")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    try:
        return WallClockCron(
            second=second, minute=minute, hour=hour, day=day, month=month,
            day_of_week=cron_weekdays(weekday), timezone=zone,
        )  # fmt: skip
    except ValueError as exc:
        raise CronError(str(exc)) from None


def check_schedule(config: Config) -> dict[str, CronTrigger]:
    """The triggers of every scheduled job (an empty expression turns a job off); ConfigError names bad keys."""
    triggers: dict[str, CronTrigger] = {}
    errors: list[str] = []
    for key in ("build", "digest"):
        expression = getattr(config.schedule, key)
        if not expression:
            continue
        try:
            triggers[key] = parse_cron(expression, config.schedule_zone)
        except CronError as exc:
            errors.append(f"{config.path.name}: {cron_error(key, expression, str(exc))}")
    if errors:
        raise ConfigError("\n".join(errors))
    return triggers


def cron_weekdays(field: str) -> str:
    """Cron's weekday field with every number turned into a day name (0 and 7 are Sunday)."""
    items = []
    for item in field.lower().split(","):
        match = _NUMERIC_ITEM.match(item)
        if match is None or (match[1] == "*" and not match[3]):
            items.append(item)  # names, ranges of names and a bare * mean the same to APScheduler
            continue
        start = 0 if match[1] == "*" else int(match[1])
        end = 6 if match[1] == "*" else int(match[2] or start)
        step = int(match[3] or 1)
        if not (0 <= start <= 7 and 0 <= end <= 7 and step > 0):
            raise CronError(f"weekday {item!r} is out of range 0-7")
        items.extend(DAY_NAMES[number % 7] for number in range(start, end + 1, step))
    return ",".join(dict.fromkeys(items))
