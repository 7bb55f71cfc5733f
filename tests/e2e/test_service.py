"""`feedkit run` as a real process on a real clock, with short schedules (a seconds field, tests
only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.newsletter import campaigns, history
from feedkit.operations import FIRST_START_KEY
from feedkit.store.db import Store
from tests.conftest import import_rows, write_site
from tests.smtp_server import Faults, SmtpServer, free_port

SECRET = "service-test-secret-long-enough"  # noqa: S105 - a test value
ENV = {**os.environ, "FEEDKIT_SECRET": SECRET}


def review(title: str, hours_ago: float = 1) -> str:
    date = (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")
    return f"---\ntitle: {title}\ndate: {date}\n---\nAbout {title}.\n"


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not true within {seconds} s: {condition.__doc__ or condition}")


class Running:
    """A `feedkit run` process whose log goes to a file."""

    def __init__(self, root: Path) -> None:
        self.log_path = root / "service.log"
        self.log = self.log_path.open("w")
        command = [sys.executable, "-m", "feedkit.cli", "run"]
        self.process = subprocess.Popen(
            command, cwd=root, env=ENV, stdout=self.log, stderr=subprocess.STDOUT
        )

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=15)
        self.log.close()
        return code


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


def make_site(
    root: Path, server: SmtpServer, schedule: str, reviews: dict[str, str | bytes]
) -> Config:
    extra = (
        '[digest]\ntransport = "smtp"\n[smtp]\nhost = "127.0.0.1"\nport = '
        f'{server.port}\nsecurity = "none"\n'
        f"[schedule]\n{schedule}"
    )
    config = load_config(write_site(root, reviews, extra))
    import_rows(config, [[f"reader{n}@example.org"] for n in range(3)])
    return config


def test_service_builds_new_reviews_and_sends_each_digest_once(
    tmp_path: Path, server: SmtpServer
) -> None:
    """Left running, the service publishes a new review within seconds and mails it once; SIGTERM
    exits 0."""
    schedule = 'build = "* * * * * *"\ndigest = "*/2 * * * * *"\ncatch_up = false\n'
    config = make_site(tmp_path, server, schedule, {"a.md": review("Alphaville")})
    service = Running(tmp_path)
    feed = config.output_dir / "feed.xml"
    try:
        wait_for(lambda: feed.exists() and b"Alphaville" in feed.read_bytes())
        wait_for(lambda: len(server.handler.received) == 3)
        (config.content_dir / "b.md").write_text(review("Bande a part", 0.5), encoding="utf-8")
        wait_for(lambda: b"Bande a part" in feed.read_bytes())
        wait_for(lambda: len(server.handler.received) == 6)
        time.sleep(3)  # more digest runs come and go: they must find nothing new
    finally:
        assert service.stop() == 0
    copies = server.handler.by_recipient()
    assert {address: len(items) for address, items in copies.items()} == {
        f"reader{n}@example.org": 2 for n in range(3)
    }
    log = service.text()
    assert "build: 1 review published" in log
    assert (
        "digest: digest 1: 3 sent, 0 failed, 0 deferred, 0 unknown, 0 skipped (unsubscribed); 0 "
        "still pending" in log
    )
    assert "digest: nothing new since the last digest; nothing sent" in log
    assert log.rstrip().endswith("stopped")


def test_digest_missed_during_downtime_is_sent_once_at_start(
    tmp_path: Path, server: SmtpServer
) -> None:
    """A week's downtime over a due digest gives exactly one digest when the service starts."""
    config = make_site(
        tmp_path, server, 'build = ""\ndigest = "0 8 * * FRI"\n', {"a.md": review("Alphaville")}
    )
    with Store(config.database_path) as store:
        store.set_meta(FIRST_START_KEY, (datetime.now(UTC) - timedelta(days=30)).isoformat())
    service = Running(tmp_path)
    try:
        wait_for(lambda: len(server.handler.received) == 3)
        time.sleep(1)
    finally:
        assert service.stop() == 0
    assert "digest: one was due while the service was down; sending it now" in service.text()
    assert [status.id for status in history.status(config)] == [1]
    assert len(server.handler.received) == 3


def test_manual_send_is_refused_while_the_service_sends(tmp_path: Path) -> None:
    """`digest send` from a shell while the scheduled send holds the lock: refused, naming the
    holder."""
    slow = SmtpServer(Faults(delay=0.2)).start()
    try:
        config = make_site(
            tmp_path, slow, 'build = ""\ndigest = "* * * * * *"\n', {"a.md": review("Alphaville")}
        )
        import_rows(config, [[f"more{n}@example.org"] for n in range(20)])
        service = Running(tmp_path)
        try:
            wait_for(lambda: len(slow.handler.received) >= 2)
            manual = subprocess.run(
                [sys.executable, "-m", "feedkit.cli", "digest", "send", "--yes"],
                cwd=tmp_path,
                env=ENV,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            assert service.stop() == 0
        assert manual.returncode == 6
        assert manual.stderr.startswith(
            f"error: another digest send is running (process {service.process.pid} on "
        )
        assert "; wait for it to finish;" in manual.stderr
    finally:
        slow.stop()


def test_sigterm_mid_send_then_restart_gives_one_copy_each(tmp_path: Path) -> None:
    """SIGTERM during a send stops after the message in flight; the next start finishes the
    digest."""
    slow = SmtpServer(Faults(delay=0.1)).start()
    try:
        config = make_site(
            tmp_path, slow, 'build = ""\ndigest = "* * * * * *"\n', {"a.md": review("Alphaville")}
        )
        addresses = [f"reader{n}@example.org" for n in range(3)] + [
            f"more{n}@example.org" for n in range(25)
        ]
        import_rows(config, [[address] for address in addresses])
        first = Running(tmp_path)
        wait_for(lambda: len(slow.handler.received) >= 5)
        started = time.monotonic()
        assert first.stop() == 0
        assert time.monotonic() - started < 5
        assert 0 < history.pending_count(config) < len(addresses)
        second = Running(tmp_path)
        try:
            wait_for(lambda: history.pending_count(config) == 0, 60)
        finally:
            assert second.stop() == 0
        copies = slow.handler.by_recipient()
        assert sorted(copies) == sorted(addresses)
        assert all(len(items) == 1 for items in copies.values())
    finally:
        slow.stop()


def test_an_interrupted_digest_is_finished_at_start_not_at_the_next_digest_time(
    tmp_path: Path, server: SmtpServer
) -> None:
    """With a weekly digest, a send stopped midway is finished as soon as the service starts again,
    each subscriber getting one copy, and no new digest is made."""
    config = make_site(
        tmp_path, server, 'build = ""\ndigest = "0 8 1 1 *"\n', {"a.md": review("Alphaville")}
    )
    with Store(config.database_path) as store:
        campaigns.create_run(config, store)  # frozen, nothing sent yet: as after a kill
    service = Running(tmp_path)
    try:
        wait_for(lambda: history.pending_count(config) == 0)
    finally:
        assert service.stop() == 0
    copies = server.handler.by_recipient()
    assert {address: len(items) for address, items in copies.items()} == {
        f"reader{n}@example.org": 1 for n in range(3)
    }
    assert [status.id for status in history.status(config)] == [1]
    assert "an interrupted digest has messages pending; finishing it now" in service.text()


def test_run_with_serve_answers_http_beside_the_scheduler(
    tmp_path: Path, server: SmtpServer
) -> None:
    """`feedkit run --serve` builds on schedule and serves the result over HTTP in the same
    process."""
    make_site(
        tmp_path, server, 'build = "* * * * * *"\ndigest = ""\n', {"a.md": review("Alphaville")}
    )
    port = free_port()
    log = (tmp_path / "service.log").open("w")
    command = [sys.executable, "-m", "feedkit.cli", "run", "--serve", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=ENV, stdout=log, stderr=subprocess.STDOUT
    )

    def feed_is_served() -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/feed.xml", timeout=2
            ) as response:
                return response.status == 200 and b"Alphaville" in response.read()
        except OSError:
            return False

    try:
        wait_for(feed_is_served)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        log.close()
