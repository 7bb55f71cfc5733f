"""Schedules: cron as cron users read it, correct across daylight saving, and catch-up
decisions."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedkit.config import load_config
from feedkit.errors import ConfigError
from feedkit.newsletter.model import DigestContent
from feedkit.operations import DIGEST_RUN_KEY, FIRST_START_KEY
from feedkit.schedule import check_schedule, cron_weekdays, parse_cron, upcoming
from feedkit.service.scheduler import digest_job, digest_was_missed
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from tests.conftest import import_rows, write_site
from tests.smtp_server import free_port

LONDON = ZoneInfo("Europe/London")


def fire_times(expression: str, start: datetime, end: datetime) -> list[datetime]:
    trigger = parse_cron(expression, LONDON)
    times: list[datetime] = []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end:
        times.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return times


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("FRI", "fri"),
        ("5", "fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*", "*"),
        ("6,0", "sat,sun"),
        ("sun-tue", "sun,mon,tue"),
        ("5-7", "fri,sat,sun"),
    ],
)
def test_weekday_numbers_mean_what_cron_means(field: str, expected: str) -> None:
    """Cron counts Sunday as 0 and 7; the translation gives APScheduler day names."""
    assert cron_weekdays(field) == expected


def test_friday_digest_across_both_dst_changes() -> None:
    """'0 8 * * FRI' in London fires every Friday at 08:00 local, through March and October
    changes."""
    times = fire_times(
        "0 8 * * FRI", datetime(2026, 3, 20, tzinfo=LONDON), datetime(2026, 11, 7, tzinfo=LONDON)
    )
    assert all(moment.astimezone(LONDON).strftime("%a %H:%M") == "Fri 08:00" for moment in times)
    assert [moment.date() for moment in times] == [
        date(2026, 3, 20) + timedelta(weeks=week) for week in range(len(times))
    ]
    offsets = {
        moment.astimezone(LONDON).date().isoformat(): moment.astimezone(LONDON).strftime("%z")
        for moment in times
    }
    assert offsets["2026-03-27"] == "+0000"  # before the clocks go forward on the 29th
    assert offsets["2026-04-03"] == "+0100"
    assert offsets["2026-10-23"] == "+0100"
    assert offsets["2026-10-30"] == "+0000"  # after they go back on the 25th


def test_a_time_inside_the_autumn_repeat_fires_once() -> None:
    """01:30 happens twice on the night the clocks go back; a daily 01:30 job still runs once."""
    times = fire_times(
        "30 1 * * *", datetime(2026, 10, 24, tzinfo=LONDON), datetime(2026, 10, 27, tzinfo=LONDON)
    )
    days = [moment.astimezone(LONDON).date().isoformat() for moment in times]
    assert days == ["2026-10-24", "2026-10-25", "2026-10-26"]


def test_a_time_skipped_in_spring_is_not_doubled() -> None:
    """01:30 does not exist on the night the clocks go forward: the job runs at most once that
    day."""
    times = fire_times(
        "30 1 * * *", datetime(2026, 3, 28, tzinfo=LONDON), datetime(2026, 3, 31, tzinfo=LONDON)
    )
    days = [moment.astimezone(LONDON).date().isoformat() for moment in times]
    assert days.count("2026-03-29") <= 1
    assert days.count("2026-03-28") == 1
    assert days.count("2026-03-30") == 1


def test_bad_cron_and_zone_are_config_errors_naming_the_key(tmp_path: Path) -> None:
    """An impossible expression or an unknown zone names [schedule] and the key."""
    config = load_config(write_site(tmp_path, {}, '[schedule]\ndigest = "0 25 * * FRI"\n'))
    with pytest.raises(ConfigError) as caught:
        check_schedule(config)
    assert str(caught.value).startswith(
        "config.toml: [schedule] digest: '0 25 * * FRI' is not a cron expression ("
    )
    assert str(caught.value).endswith("; write e.g. '0 8 * * FRI'")
    with pytest.raises(ConfigError) as caught:
        load_config(
            write_site(
                tmp_path,
                {},
                '[schedule]\ntimezone = "Mars/Olympus"\nbuild = "every ten minutes"\n',
            )
        )
    assert str(caught.value).splitlines() == [
        "config.toml: [schedule] timezone: 'Mars/Olympus' is not a time zone; write e.g. "
        "'Europe/London'",
        "config.toml: [schedule] build: 'every ten minutes' is not a cron expression "
        "(cron has 5 fields: minute hour day month weekday); write e.g. '0 8 * * FRI'",
    ]


def test_schedule_lists_upcoming_runs_in_the_site_zone(tmp_path: Path) -> None:
    """`feedkit schedule` shows the next Fridays at 08:00 London time."""
    config = load_config(write_site(tmp_path, {}))
    moments = upcoming(config, 3)["digest"]
    assert len(moments) == 3
    assert {moment.strftime("%a %H:%M %Z") for moment in moments} <= {
        "Fri 08:00 GMT",
        "Fri 08:00 BST",
    }


def freeze_one_digest(store: Store, created: datetime) -> None:
    content = DigestContent("s", "h", "t", (), created, "")
    mailstate.freeze_run(store, [mailstate.Part(content, ())], created)


def test_catch_up_runs_once_after_downtime(tmp_path: Path) -> None:
    """A Friday missed while down is caught up once; after that digest nothing more is due."""
    config = load_config(write_site(tmp_path, {}))
    trigger = check_schedule(config)["digest"]
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday
    assert digest_was_missed(config, trigger, now) is False  # first ever start: nothing was missed
    with Store(config.database_path) as store:
        store.set_meta(FIRST_START_KEY, (now - timedelta(days=30)).isoformat())
        freeze_one_digest(
            store, now - timedelta(days=12)
        )  # the last digest, before Friday the 20th
    assert digest_was_missed(config, trigger, now) is True
    with Store(config.database_path) as store:
        freeze_one_digest(store, now - timedelta(hours=1))  # the catch-up digest
    assert digest_was_missed(config, trigger, now) is False
    assert digest_was_missed(config, trigger, datetime(2026, 11, 27, 8, 0, 1, tzinfo=UTC)) is True


def test_frequent_job_moves_forward_through_the_repeated_hour() -> None:
    """'*/20' on the night the clocks go back runs in both passes of 01:00-02:00, always forwards.

    (APScheduler 3.x on its own answers a time before the last run there, which would fire a job
    over
    and over; feedkit's trigger guards against that.)
    """
    start = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)
    times = fire_times("*/20 * * * *", start, start + timedelta(hours=3))
    utc = [moment.astimezone(UTC) for moment in times]
    assert utc == sorted(set(utc))
    every_twenty_minutes = [
        datetime(2026, 10, 24, 23, 40, tzinfo=UTC) + timedelta(minutes=20 * n) for n in range(12)
    ]
    assert (
        utc == every_twenty_minutes
    )  # 23:40 UTC to 03:20 UTC: the hour of 01:xx local runs twice


def test_a_run_that_found_nothing_new_is_not_caught_up(tmp_path: Path) -> None:
    """Friday's run sent nothing (nothing was new): a restart on Tuesday does not send a digest."""
    config = load_config(write_site(tmp_path, {}))
    trigger = check_schedule(config)["digest"]
    tuesday = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with Store(config.database_path) as store:
        store.set_meta(FIRST_START_KEY, (tuesday - timedelta(days=30)).isoformat())
        store.set_meta(
            DIGEST_RUN_KEY, datetime(2026, 11, 20, 8, 0, 0, 300, tzinfo=UTC).isoformat()
        )
    assert digest_was_missed(config, trigger, tuesday) is False


def test_a_digest_stamped_exactly_on_the_hour_is_not_missed(tmp_path: Path) -> None:
    """A digest created at 08:00:00 (stamps are whole seconds) is that 08:00's digest."""
    config = load_config(write_site(tmp_path, {}))
    trigger = check_schedule(config)["digest"]
    with Store(config.database_path) as store:
        store.set_meta(FIRST_START_KEY, datetime(2026, 10, 1, tzinfo=UTC).isoformat())
        freeze_one_digest(store, datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    assert digest_was_missed(config, trigger, datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) is False


def test_day_of_month_or_weekday_as_in_cron() -> None:
    """'0 8 1 * MON' fires on the 1st of each month and on every Monday, as cron does (not only on
    both)."""
    times = fire_times(
        "0 8 1 * MON", datetime(2026, 11, 25, tzinfo=LONDON), datetime(2026, 12, 16, tzinfo=LONDON)
    )
    assert [moment.strftime("%a %d %b") for moment in times] == [
        "Mon 30 Nov",
        "Tue 01 Dec",
        "Mon 07 Dec",
        "Mon 14 Dec",
    ]


def test_backwards_weekday_range_is_a_clear_error() -> None:
    """'fri-mon' runs backwards: cron refuses it, and so does feedkit, saying how to write it."""
    with pytest.raises(ValueError, match="runs backwards; write it as two ranges"):
        cron_weekdays("fri-mon")


def test_a_digest_run_that_failed_is_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest job that could not send (no server) leaves the last run as it was, so the catch-up
    still sees the digest as due; a run that went through is recorded."""
    monkeypatch.setenv("FEEDKIT_SECRET", "a-test-secret-that-is-long-enough")
    date = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    reviews: dict[str, str | bytes] = {"a.md": f"---\ntitle: A\ndate: {date}\n---\nText.\n"}
    smtp = (
        '[digest]\ntransport = "smtp"\n[smtp]\nhost = "127.0.0.1"\n'
        f'port = {free_port()}\nsecurity = "none"\n'
    )
    config = load_config(write_site(tmp_path, reviews, smtp))
    import_rows(config, [["ann@example.org"]])
    assert digest_job(config, threading.Event()) is False
    with Store(config.database_path) as store:
        assert store.get_meta(DIGEST_RUN_KEY) is None
    file_config = load_config(write_site(tmp_path, reviews))
    assert digest_job(file_config, threading.Event()) is True
    with Store(config.database_path) as store:
        assert store.get_meta(DIGEST_RUN_KEY) is not None
