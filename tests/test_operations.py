"""Watching the service from outside: /healthz and `feedkit status` say the same and turn
unhealthy for the right reasons, /metrics parses with the Prometheus client's own parser, and
incidents are told once each way, on real SQLite and a real HTTP receiver."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from feedkit import alerts, operations, pipeline
from feedkit.cli.main import main
from feedkit.config import Config, load_config
from feedkit.errors import ConfigError
from feedkit.mail.mailboxes import OneMessage
from feedkit.newsletter import bounces, campaigns, subscriptions
from feedkit.operations import DIGEST_RUN_KEY, FIRST_START_KEY, HEARTBEAT_KEY
from feedkit.service import scheduler
from feedkit.store.db import Store
from feedkit.web.app import create_app
from tests.conftest import import_rows, write_site
from tests.http_sink import HttpSink
from tests.returned_mail import complaint, dsn
from tests.test_newsletter import REVIEWS

SECRET = "operations-test-secret-long-enough"  # noqa: S105 - a test value
LOCAL = ("127.0.0.1", 50000)
SITE = '[digest]\nfrom_address = "digest@reviews.example.org"\n'


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    receiver = HttpSink().start()
    yield receiver
    receiver.stop()


def site(root: Path, extra: str = "") -> Config:
    return load_config(write_site(root, REVIEWS, SITE + extra))


def subscribe(config: Config, addresses: list[str]) -> None:
    """Active subscribers, as an editor imports them (the one place these tests add any)."""
    import_rows(config, [[address] for address in addresses])


def beat(config: Config, age: timedelta = timedelta(0)) -> None:
    with Store(config.database_path) as store:
        store.set_meta(HEARTBEAT_KEY, (datetime.now(UTC) - age).isoformat(timespec="seconds"))


def healthz(config: Config, client: tuple[str, int] = LOCAL) -> tuple[int, dict[str, object]]:
    with TestClient(create_app(config), client=client) as http:
        response = http.get("/healthz")
    return response.status_code, response.json() if response.status_code != 403 else {}


def test_healthz_is_ok_with_a_fresh_heartbeat_and_a_build_that_went_through(
    tmp_path: Path,
) -> None:
    """200 and every key of the body, with the build's run and no problem named."""
    config = site(tmp_path)
    operations.record_job_run(config, "build", ok=True, seconds=0.5, error="")
    beat(config)
    status, body = healthz(config)
    assert status == 200
    assert sorted(body) == [
        "checked_at",
        "heartbeat_age_seconds",
        "last_build",
        "last_digest",
        "lock_holder",
        "pending_deliveries",
        "problems",
        "status",
    ]
    assert (body["status"], body["problems"], body["lock_holder"]) == ("ok", [], None)
    last_build = body["last_build"]
    assert isinstance(last_build, dict)
    assert (last_build["ok"], last_build["error"]) == (True, None)


def test_healthz_is_503_when_the_heartbeat_is_stale(tmp_path: Path) -> None:
    """A heartbeat older than stale_after_minutes is a service that is not running: 503."""
    config = site(tmp_path, "[alerts]\nstale_after_minutes = 5\n")
    beat(config, timedelta(minutes=6))
    status, body = healthz(config)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["problems"] == ["heartbeat 360 s old (over 5 min): the service is not running"]


def test_healthz_is_503_when_the_last_run_of_a_job_failed_and_200_once_it_goes_through(
    tmp_path: Path,
) -> None:
    """One failed run is enough for 503, naming the job and its error; a good run clears it."""
    config = site(tmp_path)
    beat(config)
    error = "cannot reach the mail server at 127.0.0.1:2525"
    operations.record_job_run(config, "digest", ok=False, seconds=1.0, error=error)
    status, body = healthz(config)
    assert (status, body["problems"]) == (503, [f"digest failed once in a row: {error}"])
    operations.record_job_run(config, "digest", ok=True, seconds=1.0, error="")
    assert healthz(config)[0] == 200


def test_run_once_from_cron_leaves_a_heartbeat_and_its_runs_for_healthz(tmp_path: Path) -> None:
    """`run --once` is the service when cron starts it: afterwards /healthz is 200 with the
    build's run, and no heartbeat problem."""
    config = site(tmp_path, '[schedule]\ndigest = ""\n')
    assert scheduler.run_once(config) == []
    status, body = healthz(config)
    assert status == 200
    last_build = body["last_build"]
    assert isinstance(last_build, dict)
    assert last_build["ok"] is True


def test_a_digest_run_that_finds_another_send_under_way_is_neither_success_nor_failure(
    tmp_path: Path,
) -> None:
    """Skipped for a live send lock, the digest job records no run: /healthz stays 200."""
    config = site(tmp_path)
    subscribe(config, ["ann@example.org"])
    beat(config)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    host = socket.gethostname() + "-other"
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute("INSERT INTO locks VALUES ('digest', ?, 4242, ?, ?, 't')", (host, now, now))
    assert scheduler.digest_job(config, threading.Event()) is False
    status, body = healthz(config)
    assert (status, body["last_digest"]) == (200, {"digest": None})


def test_a_digest_due_over_an_hour_ago_that_never_went_is_unhealthy(tmp_path: Path) -> None:
    """A daily digest whose time passed more than digest_late_minutes ago with no run since is
    late; once a run goes through, it is not."""
    config = site(tmp_path, '[schedule]\ndigest = "0 * * * *"\n')
    beat(config)
    with Store(config.database_path) as store:
        store.set_meta(FIRST_START_KEY, (datetime.now(UTC) - timedelta(hours=3)).isoformat())
    status, body = healthz(config)
    problems = body["problems"]
    assert status == 503
    assert isinstance(problems, list)
    assert len(problems) == 1
    assert problems[0].startswith("digest late: due at ")
    assert problems[0].endswith(" and not out after 60 min")
    with Store(config.database_path) as store:
        store.set_meta(DIGEST_RUN_KEY, datetime.now(UTC).isoformat())
    assert healthz(config)[0] == 200


def test_healthz_and_metrics_name_the_process_holding_the_send_lock(tmp_path: Path) -> None:
    """A live send lock (another machine's, heartbeat fresh) is the lock holder in /healthz and
    1 in feedkit_send_lock_held; the service stays healthy while it sends."""
    config = site(tmp_path)
    beat(config)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    host = socket.gethostname() + "-other"
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute("INSERT INTO locks VALUES ('digest', ?, 4242, ?, ?, 't')", (host, now, now))
    status, body = healthz(config)
    assert status == 200
    assert body["lock_holder"] == {"host": host, "pid": 4242, "since": now}
    assert scrape(config)["feedkit_send_lock_held"] == {(): 1.0}


def test_healthz_and_metrics_answer_only_the_monitoring_addresses(tmp_path: Path) -> None:
    """Another address gets 403 from both; a listed network is let in."""
    config = site(tmp_path, '[alerts]\nmonitoring_from = ["10.0.0.0/8"]\n')
    beat(config)
    for client, expected in ((LOCAL, 403), (("203.0.113.9", 1), 403), (("10.1.2.3", 1), 200)):
        with TestClient(create_app(config), client=client) as http:
            assert [http.get(path).status_code for path in ("/healthz", "/metrics")] == [
                expected,
                expected,
            ]


def test_healthz_on_a_site_that_never_ran_is_503_and_makes_no_database(tmp_path: Path) -> None:
    """A GET never changes state: no database is created by asking about it."""
    config = site(tmp_path)
    status, body = healthz(config)
    assert status == 503
    assert body["problems"] == [
        f"no state database at {config.database_path}: the service has never run here"
    ]
    assert not config.database_path.exists()


def test_status_prints_the_health_and_exits_1_naming_what_is_wrong(tmp_path: Path) -> None:
    """`feedkit status` prints the same verdict as /healthz, and a failed command is exit 1."""
    config = site(tmp_path)
    beat(config)
    operations.record_job_run(config, "build", ok=False, seconds=0.1, error="disk full")
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["status"])
        as_json = CliRunner().invoke(main, ["status", "--json"])
    finally:
        os.chdir(previous)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "status: unhealthy"
    assert lines[-1] == "problem: build failed once in a row: disk full"
    assert "send lock: free" in lines
    assert result.stderr == (
        "error: the service is unhealthy: build failed once in a row: disk full; "
        "its log says more\n"
    )
    printed, served = json.loads(as_json.stdout), healthz(config)[1]
    for moving in ("checked_at", "heartbeat_age_seconds"):
        del printed[moving], served[moving]
    assert printed == served


def scrape(config: Config) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """/metrics parsed by prometheus_client's parser: sample name -> labels -> value."""
    with TestClient(create_app(config), client=LOCAL) as http:
        response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def test_metrics_parse_with_the_client_parser_and_count_what_happened(tmp_path: Path) -> None:
    """Builds, their seconds, reviews, feeds, digests, deliveries, subscribers by status,
    bounces, complaints, the lock and last success times are all there with the right values."""
    config = site(tmp_path)
    report = pipeline.build(config)
    operations.record_build_numbers(config, report.published, len(report.written))
    operations.record_job_run(config, "build", ok=True, seconds=1.5, error="")
    operations.record_job_run(config, "build", ok=False, seconds=0.5, error="x")
    addresses = ["ann", "bob", "cat", "dan", "eve"]
    subscribe(config, [f"{name}@example.org" for name in addresses])
    subscriptions.remove_subscriber(config, "eve@example.org")
    campaigns.deliver(config)
    # What comes back: a hard bounce for cat and a complaint about dan's copy, read as mail.
    sender = "digest@reviews.example.org"
    returned = [
        dsn(to=sender, recipient="cat@example.org"),
        complaint(envelope_sender=sender, recipient="dan@example.org"),
    ]
    for message in returned:
        bounces.ingest(config, OneMessage(message))
    beat(config)
    metrics = scrape(config)
    assert metrics["feedkit_job_runs_total"] == {
        (("job", "build"), ("outcome", "failed")): 1.0,
        (("job", "build"), ("outcome", "ok")): 1.0,
    }
    assert metrics["feedkit_job_duration_seconds_sum"] == {(("job", "build"),): 2.0}
    assert metrics["feedkit_job_duration_seconds_count"] == {(("job", "build"),): 2.0}
    assert metrics["feedkit_job_failures_in_a_row"] == {(("job", "build"),): 1.0}
    assert list(metrics["feedkit_job_last_success_timestamp_seconds"]) == [(("job", "build"),)]
    assert metrics["feedkit_reviews_published"] == {(): 3.0}
    assert metrics["feedkit_feeds_written_total"] == {(): float(len(report.written))}
    assert metrics["feedkit_digests_total"] == {(): 1.0}
    assert metrics["feedkit_deliveries"][(("status", "sent"),)] == 4.0
    assert metrics["feedkit_deliveries"][(("status", "pending"),)] == 0.0
    assert metrics["feedkit_subscribers"] == {
        (("status", "active"),): 2.0,
        (("status", "bounced"),): 1.0,
        (("status", "complained"),): 1.0,
        (("status", "pending"),): 0.0,
        (("status", "unsubscribed"),): 1.0,
    }
    assert metrics["feedkit_bounces_total"] == {(): 1.0}
    assert metrics["feedkit_complaints_total"] == {(): 1.0}
    assert metrics["feedkit_send_lock_held"] == {(): 0.0}
    assert metrics["feedkit_healthy"] == {(): 0.0}  # the build's last run failed


def alerting(root: Path, sink: HttpSink, extra: str = "") -> Config:
    settings = f'[alerts]\nwebhook_url = "{sink.url("/hook")}"\nping_url = "{sink.url("/ping")}"\n'
    return site(root, settings + extra)


def test_an_incident_is_told_once_when_it_opens_and_once_when_it_recovers(
    tmp_path: Path, sink: HttpSink
) -> None:
    """One failure tells nobody; the second in a row posts one alert, a third nothing more; the
    next good run posts one recovery; the dead man's switch is pinged after good runs only."""
    config = alerting(tmp_path, sink)
    told = []
    for ok in (False, False, False, True, True):
        alerts.after_job(config, "digest", ok=ok, seconds=0.1, error="" if ok else "server down")
        told.append(len(sink.on("/hook")))
    assert told == [0, 1, 1, 2, 2]
    events = [request.json() for request in sink.on("/hook")]
    assert [(event["event"], event["incident"]) for event in events] == [
        ("alert", "job-digest"),
        ("recovered", "job-digest"),
    ]
    assert events[0]["summary"] == "digest failed 2 times in a row: server down"
    assert events[0]["text"] == "Test Reviews: digest failed 2 times in a row: server down"
    assert [request.method for request in sink.on("/ping")] == ["GET", "GET"]
    assert [request.path for request in sink.requests] == ["/hook", "/ping", "/hook", "/ping"]


def test_an_alert_nobody_could_receive_is_told_at_the_next_look(
    tmp_path: Path, sink: HttpSink
) -> None:
    """With the webhook answering 503 the alert stays untold; the next look, with it back, tells
    it once."""
    config = alerting(tmp_path, sink)
    sink.down = True
    for _ in range(2):
        alerts.after_job(config, "build", ok=False, seconds=0.1, error="disk full")
    assert sink.requests == []
    sink.down = False
    alerts.look(config)
    alerts.look(config)
    assert [request.json()["event"] for request in sink.on("/hook")] == ["alert"]


def test_a_late_digest_is_an_incident_told_once(tmp_path: Path, sink: HttpSink) -> None:
    """An hourly digest with no run for three hours is one 'digest-late' alert, however often the
    service looks; once a run goes through, one recovery."""
    config = alerting(tmp_path, sink, '[schedule]\ndigest = "0 * * * *"\n')
    with Store(config.database_path) as store:
        store.set_meta(FIRST_START_KEY, (datetime.now(UTC) - timedelta(hours=3)).isoformat())
    alerts.look(config)
    alerts.look(config)
    with Store(config.database_path) as store:
        store.set_meta(DIGEST_RUN_KEY, datetime.now(UTC).isoformat())
    alerts.look(config)
    events = [request.json() for request in sink.on("/hook")]
    assert [(event["event"], event["incident"]) for event in events] == [
        ("alert", "digest-late"),
        ("recovered", "digest-late"),
    ]


def test_bad_alert_settings_are_each_named(tmp_path: Path) -> None:
    """A typo in [alerts] is found when the config is read, not in an emergency."""
    settings = (
        '[alerts]\nto = ["ops"]\nwebhook_url = "ftp://x"\nfailures = 0\n'
        'monitoring_from = ["localhost"]\nsmtp_security = "ssl"\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_config(write_site(tmp_path, {}, settings))
    assert str(raised.value).splitlines() == [
        "config.toml: [alerts] to/from_address: 'ops' is not a plain e-mail address",
        "config.toml: [alerts] from_address: needed to mail alerts (or set [digest] from_address)",
        "config.toml: [alerts] webhook_url: 'ftp://x' is not an http(s) URL",
        "config.toml: [alerts] failures: must be at least 1, not 0",
        "config.toml: [alerts] smtp_security: 'ssl' is not one of starttls, tls, none",
        "config.toml: [alerts] monitoring_from: 'localhost' is not an IP address or network; "
        "write e.g. '127.0.0.1' or '10.0.0.0/8'",
    ]
