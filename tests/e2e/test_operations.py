"""Operations as real processes: a service whose mail server goes down turns /healthz to 503 and
tells one alert and one recovery; a backup taken in the middle of a real send restores to a
sound database that finishes that send, each pending message once."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedkit.config import load_config
from feedkit.newsletter import history
from tests.conftest import write_site
from tests.e2e.test_service import ENV, review, wait_for
from tests.http_sink import HttpSink
from tests.processes import start_send
from tests.smtp_server import Faults, SmtpServer, free_port
from tests.test_operations import subscribe

READERS = [f"reader{n}@example.org" for n in range(3)]


def health(port: int) -> tuple[int, dict[str, Any]]:
    """/healthz's status and body; (0, {}) while nothing answers yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


@pytest.fixture
def alert_sink() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


@pytest.fixture
def hooks() -> Iterator[HttpSink]:
    receiver = HttpSink().start()
    yield receiver
    receiver.stop()


def test_a_digest_server_that_is_down_gives_503_one_alert_and_one_recovery(
    tmp_path: Path, alert_sink: SmtpServer, hooks: HttpSink
) -> None:
    """With the digest's SMTP server down, /healthz answers 503 naming the digest and exactly one
    alert reaches the alerts' own server and the webhook; with the server back, the digest goes
    out once each, one recovery is told, /healthz is 200 and the dead man's switch is pinged."""
    digest_port = free_port()  # nothing listens here yet: the digest's server is down
    settings = f"""
        [digest]
        transport = "smtp"
        from_address = "digest@reviews.example.org"
        [smtp]
        host = "127.0.0.1"
        port = {digest_port}
        security = "none"
        [schedule]
        build = ""
        digest = "* * * * * *"
        catch_up = false
        [alerts]
        to = ["ops@example.org"]
        webhook_url = "{hooks.url("/hook")}"
        ping_url = "{hooks.url("/ping")}"
        smtp_host = "127.0.0.1"
        smtp_port = {alert_sink.port}
        smtp_security = "none"
        """
    config = load_config(write_site(tmp_path, {"a.md": review("Alphaville")}, settings))
    subscribe(config, READERS)
    web_port = free_port()
    log_path = tmp_path / "service.log"
    command = [sys.executable, "-m", "feedkit.cli", "run", "--serve", "--port", str(web_port)]
    with log_path.open("w") as log:
        service = subprocess.Popen(command, cwd=tmp_path, env=ENV, stdout=log, stderr=log)
    digest_server = SmtpServer(port=digest_port)
    try:
        wait_for(lambda: len(alert_sink.handler.received) == 1, 60)
        status, body = health(web_port)
        assert status == 503
        assert any(str(problem).startswith("digest failed ") for problem in body["problems"])
        assert hooks.on("/ping") == []
        digest_server.start()
        wait_for(lambda: len(alert_sink.handler.received) == 2, 60)
        wait_for(lambda: health(web_port)[0] == 200)
        wait_for(lambda: len(hooks.on("/ping")) >= 1)
    finally:
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=15) == 0
        digest_server.stop()
    subjects = [item.message["Subject"] for item in alert_sink.handler.received]
    assert subjects[0].startswith("[feedkit] Test Reviews: digest failed 2 times in a row: ")
    assert subjects[1] == subjects[0].replace("Test Reviews: ", "Test Reviews: recovered: ")
    assert [item.recipients for item in alert_sink.handler.received] == [["ops@example.org"]] * 2
    assert [request.json()["event"] for request in hooks.on("/hook")] == ["alert", "recovered"]
    copies = digest_server.handler.by_recipient()
    assert {address: len(items) for address, items in copies.items()} == dict.fromkeys(READERS, 1)
    assert history.pending_count(config) == 0


def feedkit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedkit.cli", *args]
    return subprocess.run(
        command, cwd=root, env=ENV, capture_output=True, text=True, timeout=120, check=False
    )


def deliveries(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT address, status FROM deliveries"))


def integrity(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [str(row[0]) for row in db.execute("PRAGMA integrity_check")]


def smtp_site(port: int) -> str:
    smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    return '[digest]\ntransport = "smtp"\n' + smtp


def test_a_backup_taken_during_a_send_restores_sound_and_resumes_each_message_once(
    tmp_path: Path,
) -> None:
    """`feedkit backup` while `digest send` is sending gives a copy with some messages sent and
    some pending; restored where the database was lost, it passes integrity_check, and `digest
    resume` sends exactly the pending ones, once each, as the same messages."""
    slow, spare = SmtpServer(Faults(delay=0.1)).start(), SmtpServer().start()
    try:
        addresses = [f"reader{n:02d}@example.org" for n in range(30)]
        config_path = write_site(tmp_path, {"a.md": review("Alphaville")}, smtp_site(slow.port))
        config = load_config(config_path)
        subscribe(config, addresses)
        sender = start_send(tmp_path, ENV)
        wait_for(lambda: len(slow.handler.received) >= 5, 60)
        made = feedkit(tmp_path, "backup", "mid-send.db")
        assert sender.poll() is None, "the send was over before the backup was taken"
        assert made.returncode == 0, made.stderr
        assert sender.wait(timeout=60) == 0
        backup = tmp_path / "mid-send.db"
        at_backup = deliveries(backup)
        pending = sorted(address for address, status in at_backup.items() if status == "pending")
        assert 0 < len(pending) < len(addresses)
        assert integrity(backup) == ["ok"]

        for suffix in ("", "-wal", "-shm"):  # the database is lost; the mail server moved
            Path(f"{config.database_path}{suffix}").unlink(missing_ok=True)
        config_path.write_text(
            config_path.read_text().replace(f"port = {slow.port}", f"port = {spare.port}")
        )
        restored = feedkit(tmp_path, "restore", "mid-send.db")
        assert restored.returncode == 0, restored.stderr
        assert integrity(config.database_path) == ["ok"]
        resumed = feedkit(tmp_path, "digest", "resume")
        assert resumed.returncode == 0, resumed.stderr
        again = feedkit(tmp_path, "digest", "resume")
        assert again.stdout == "Nothing to resume: every digest is finished.\n"
    finally:
        slow.stop()
        spare.stop()
    resent = spare.handler.by_recipient()
    assert sorted(resent) == pending
    assert all(len(items) == 1 for items in resent.values())
    first = slow.handler.by_recipient()
    for address, items in resent.items():
        assert items[0].message["Message-ID"] == first[address][0].message["Message-ID"]
    assert set(deliveries(config.database_path).values()) == {"sent"}
