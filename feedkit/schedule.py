"""The `[schedule]`: standard cron expressions as APScheduler triggers, with the day-of-week
numbering cron users know, and the times each job runs next.

Cron counts Sunday as 0 (and 7); APScheduler counts Monday as 0. Numbers are turned into day
names before APScheduler sees them, so `0 8 * * 5` is Friday, as everywhere else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from feedkit.config import Config
from feedkit.config_checks import cron_error
from feedkit.errors import ConfigError

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_ITEM = re.compile(r"^(\*|\w+)(?:-(\w+))?(?:/(\d+))?$")


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
        # Compared in UTC: datetimes sharing a tzinfo compare by wall time, blind to the repeated
        # hour.
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
    return candidate.astimezone(zone).replace(tzinfo=None, fold=0) == previous.astimezone(
        zone
    ).replace(tzinfo=None, fold=0)


def parse_cron(expression: str, zone: tzinfo) -> BaseTrigger:
    """A 5-field cron expression (minute hour day month weekday); 6 fields put seconds first.

    As in cron, when both day of month and weekday are restricted, either one matching is enough
    (APScheduler alone would require both).
    """
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise CronError(f"it has {len(fields)} fields, cron has 5: minute hour day month weekday")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    weekdays = cron_weekdays(weekday)
    common = {"second": second, "minute": minute, "hour": hour, "month": month, "timezone": zone}
    try:
        if day != "*" and weekday != "*":
            return OrTrigger(
                [WallClockCron(day=day, **common), WallClockCron(day_of_week=weekdays, **common)]
            )
        return WallClockCron(day=day, day_of_week=weekdays, **common)
    except ValueError as exc:
        raise CronError(str(exc)) from None


def check_schedule(config: Config) -> dict[str, BaseTrigger]:
    """The triggers of every scheduled job (an empty expression turns a job off); ConfigError names
    bad keys."""
    triggers: dict[str, BaseTrigger] = {}
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
    """Cron's weekday field as day names (0 and 7 are Sunday; names may stand for numbers)."""
    if field == "*":
        return field
    days: list[str] = []
    for item in field.lower().split(","):
        match = _WEEKDAY_ITEM.match(item)
        if match is None:
            raise CronError(f"weekday {item!r} is not a day, a range or a step")
        start = 0 if match[1] == "*" else _day_number(match[1])
        end = 6 if match[1] == "*" else _day_number(match[2] or match[1])
        step = int(match[3] or 1)
        if end < start or step < 1:
            raise CronError(
                f"weekday range {item!r} runs backwards; write it as two ranges, e.g. "
                "fri-sat,sun-mon"
            )
        days.extend(DAY_NAMES[number % 7] for number in range(start, end + 1, step))
    return ",".join(dict.fromkeys(days))


def _day_number(token: str) -> int:
    number = (
        DAY_NAMES.index(token[:3])
        if token.isalpha() and token[:3] in DAY_NAMES
        else int(token)
        if token.isdigit()
        else -1
    )
    if not 0 <= number <= 7:
        raise CronError(f"weekday {token!r} is not 0-7 or a day name")
    return number


def upcoming(config: Config, count: int = 5) -> dict[str, list[datetime]]:
    """The next fire times of each job, in the schedule's zone."""
    times: dict[str, list[datetime]] = {}
    for name, trigger in check_schedule(config).items():
        moments: list[datetime] = []
        moment = trigger.get_next_fire_time(None, datetime.now(config.schedule_zone))
        while moment is not None and len(moments) < count:
            moments.append(moment)
            moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        times[name] = moments
    return times
