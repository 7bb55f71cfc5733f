"""`feedkit run` and `run --once` as real processes: only enabled jobs, only when due, and every
setting a job needs checked before anything starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedkit.config import Config, load_config
from feedkit.newsletter import history
from feedkit.operations import FIRST_START_KEY
from feedkit.store.db import Store
from tests.conftest import import_rows, write_site
from tests.smtp_server import free_port

SECRET = "service-start-secret-long-enough"  # noqa: S105 - a test value


def review(title: str) -> str:
    date = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    return f"---\ntitle: {title}\ndate: {date}\n---\nAbout {title}.\n"


def site(root: Path, schedule: str, digest: str = "") -> Config:
    sender = 'from_address = "digest@reviews.example.org"\n'
    extra = f"[digest]\n{sender}{digest}[schedule]\n{schedule}"
    config = load_config(write_site(root, {"a.md": review("Alphaville")}, extra))
    import_rows(config, [["ann@example.org"], ["bob@example.org"]])
    return config


def run(root: Path, *args: str, secret: str = SECRET) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDKIT_SECRET": secret}
    command = [sys.executable, "-m", "feedkit.cli", "run", *args]
    return subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def mails(config: Config) -> int:
    return len(list(config.outbox_dir.glob("*.eml"))) if config.outbox_dir.exists() else 0


def test_once_never_runs_a_disabled_digest(tmp_path: Path) -> None:
    """With `digest = ""` the config turns the digest off: --once builds and sends nothing."""
    config = site(tmp_path, 'digest = ""\n')
    result = run(tmp_path, "--once")
    assert result.returncode == 0, result.stderr
    assert (config.output_dir / "feed.xml").is_file()
    assert mails(config) == 0


def test_once_sends_only_when_the_digest_is_due(tmp_path: Path) -> None:
    """--once does what the service would do now: a Friday-only digest is not sent on another day;
    once its time has come since the last digest, it goes out, once."""
    config = site(tmp_path, 'digest = "0 8 * * *"\n')
    first = run(tmp_path, "--once")  # a first run has missed nothing
    assert first.returncode == 0, first.stderr
    assert mails(config) == 0
    assert "digest: not due; next at " in first.stderr
    with Store(config.database_path) as store:  # as if the first run had been two days ago
        store.set_meta(FIRST_START_KEY, (datetime.now(UTC) - timedelta(days=2)).isoformat())
    assert run(tmp_path, "--once").returncode == 0
    assert mails(config) == 2
    assert run(tmp_path, "--once").returncode == 0
    assert mails(config) == 2


def test_a_job_that_failed_under_once_makes_the_exit_non_zero(tmp_path: Path) -> None:
    """A due digest whose SMTP server does not answer: `run --once` says the digest failed, in
    one line after the log, exits non-zero, and leaves every delivery pending."""
    closed_port = free_port()  # nothing listens here
    schedule = (
        'digest = "* * * * * *"\ncatch_up = false\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {closed_port}\nsecurity = "none"\n'
    )
    config = site(tmp_path, schedule, digest='transport = "smtp"\n')
    with Store(config.database_path) as store:  # the service first ran a day ago: it is due
        store.set_meta(FIRST_START_KEY, (datetime.now(UTC) - timedelta(days=1)).isoformat())
    result = run(tmp_path, "--once")
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == "error: digest failed (see the log above)"
    assert history.pending_count(config) == 2


def test_a_missing_secret_stops_run_before_it_starts(tmp_path: Path) -> None:
    """Without FEEDKIT_SECRET, `run` and `run --once` fail at once, one line, exit 2 — not days
    later when the digest comes due; with the digest off, no secret is needed."""
    site(tmp_path, 'digest = "0 8 * * FRI"\n')
    for args in (["--once"], []):
        result = run(tmp_path, *args, secret="")
        assert result.returncode == 2
        assert result.stderr.startswith("error: FEEDKIT_SECRET is not set")
        assert len(result.stderr.splitlines()) == 1
    config = site(tmp_path, 'digest = ""\n')
    assert run(tmp_path, "--once", secret="").returncode == 0
    assert (config.output_dir / "feed.xml").is_file()


def test_a_broken_template_stops_run_before_it_starts(tmp_path: Path) -> None:
    """A digest template that cannot be parsed is named before the service starts."""
    site(tmp_path, 'digest = "0 8 * * FRI"\n')
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "digest.html.j2").write_text("{% if %}", encoding="utf-8")
    result = run(tmp_path, "--once")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "digest.html.j2:1:" in result.stderr


def test_the_service_builds_at_start_and_logs_no_scheduler_chatter(tmp_path: Path) -> None:
    """With a ten-minute build cron, the feeds are written at start, and the log holds feedkit's
    lines, not APScheduler's 'Adding job tentatively' / 'Added job'."""
    config = site(tmp_path, 'build = "*/10 * * * *"\ndigest = ""\n')
    log_path = tmp_path / "service.log"
    env = {**os.environ, "FEEDKIT_SECRET": SECRET}
    with log_path.open("w") as log:
        command = [sys.executable, "-m", "feedkit.cli", "run"]
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while not (config.output_dir / "feed.xml").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    text = log_path.read_text(encoding="utf-8")
    assert (config.output_dir / "feed.xml").is_file(), text
    assert "Adding job" not in text
    assert "Added job" not in text
    assert "build: 1 review" in text
