"""Operations as real processes: a service whose mail server goes down turns /healthz to 503 and
tells one alert and one recovery."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedkit.config import load_config
from feedkit.newsletter import campaigns
from tests.conftest import write_site
from tests.e2e.test_service import ENV, review, wait_for
from tests.http_sink import HttpSink
from tests.smtp_server import SmtpServer, free_port
from tests.test_operations import subscribe

READERS = [f"reader{n}@example.org" for n in range(3)]


def health(port: int) -> tuple[int, dict[str, object]]:
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
        assert any(str(problem).startswith("digest failed ") for problem in body["problems"])  # type: ignore[attr-defined]
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
    assert campaigns.pending_count(config) == 0
