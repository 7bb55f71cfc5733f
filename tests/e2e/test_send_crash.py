"""Killing a send at any point and resuming it gives each subscriber exactly one copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedkit.config import load_config
from feedkit.newsletter import history
from feedkit.store.db import Store
from tests.conftest import import_rows, write_site
from tests.processes import start_send
from tests.smtp_server import Faults, SmtpServer

SUBSCRIBERS = 30
ENV = {**os.environ, "FEEDKIT_SECRET": "crash-test-secret-long-enough"}


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedkit.cli", *args]
    return subprocess.run(
        command, cwd=root, env=ENV, capture_output=True, text=True, timeout=120, check=False
    )


def kill_a_send(root: Path, server: SmtpServer, after: int) -> None:
    """Start `digest send` and SIGKILL it once `server` has received `after` messages (or 60 s
    have passed)."""
    sender = start_send(root, ENV)
    deadline = time.monotonic() + 60
    while len(server.handler.received) < after and time.monotonic() < deadline:
        time.sleep(0.005)
    sender.send_signal(signal.SIGKILL)
    sender.wait(timeout=30)


@pytest.mark.parametrize("kill_after", [1, 12])
def test_sigkill_mid_batch_then_resume_delivers_each_once(tmp_path: Path, kill_after: int) -> None:
    """SIGKILL while sending, then `digest resume`: everyone has the digest; at most the message in
    flight arrives twice, and then with the same Message-ID."""
    server = SmtpServer(Faults(delay=0.03)).start()
    try:
        date = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
        reviews: dict[str, str | bytes] = {
            "a.md": f"---\ntitle: Alphaville DVD\ndate: {date}\n---\nText.\n"
        }
        smtp = (
            '[digest]\ntransport = "smtp"\n[smtp]\nhost = "127.0.0.1"\n'
            f'port = {server.port}\nsecurity = "none"\n'
        )
        config = load_config(write_site(tmp_path, reviews, smtp))
        addresses = [f"reader{number:02d}@example.org" for number in range(SUBSCRIBERS)]
        import_rows(config, [[address] for address in addresses])
        kill_a_send(tmp_path, server, kill_after)
        assert 0 < len(server.handler.received) < SUBSCRIBERS

        resumed = run_cli(tmp_path, "digest", "resume")
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout.startswith("Sent digest 1: ")

        copies = server.handler.by_recipient()
        assert sorted(copies) == addresses
        twice = {address: items for address, items in copies.items() if len(items) > 1}
        assert len(twice) <= 1
        for items in twice.values():
            assert len(items) == 2
            assert items[0].message["Message-ID"] == items[1].message["Message-ID"]
        assert history.pending_count(config) == 0
        assert (
            run_cli(tmp_path, "digest", "resume").stdout
            == "Nothing to resume: every digest is finished.\n"
        )
    finally:
        server.stop()


def test_sigkill_in_a_run_of_two_digests_then_resume_gives_each_reader_one(
    tmp_path: Path,
) -> None:
    """Half the readers chose a topic: the run makes two digests; a SIGKILL in the first and a
    resume leave each reader with one copy of their own digest, and none of the other."""
    server = SmtpServer(Faults(delay=0.03)).start()
    try:
        date = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
        reviews: dict[str, str | bytes] = {
            "a.md": f"---\ntitle: Alphaville DVD\ndate: {date}\ntags: [dvd]\n---\nText.\n",
            "b.md": f"---\ntitle: Brazil Blu-ray\ndate: {date}\ntags: [blu-ray]\n---\nText.\n",
        }
        settings = (
            '[digest]\ntransport = "smtp"\n[smtp]\nhost = "127.0.0.1"\n'
            f'port = {server.port}\nsecurity = "none"\n'
            '[[topics]]\nname = "blu-ray"\ntags = ["blu-ray"]\n'
        )
        config = load_config(write_site(tmp_path, reviews, settings))
        addresses = [f"reader{number:02d}@example.org" for number in range(SUBSCRIBERS)]
        import_rows(config, [[address] for address in addresses])
        with Store(config.database_path) as store:
            chosen = [(address, "blu-ray") for address in addresses[::2]]
            store.db.executemany("INSERT INTO subscriber_topics VALUES (?, ?)", chosen)
            store.db.commit()
        kill_a_send(tmp_path, server, 5)
        assert 0 < len(server.handler.received) < SUBSCRIBERS

        resumed = run_cli(tmp_path, "digest", "resume")
        assert resumed.returncode == 0, resumed.stderr

        copies = server.handler.by_recipient()
        assert sorted(copies) == addresses
        for address, items in copies.items():
            ids = {item.message["Message-ID"] for item in items}
            assert len(ids) == 1, address  # a resend, if any, is the same message
            subject = items[0].message["Subject"]
            expected = "1 new review" if address in addresses[::2] else "2 new reviews"
            assert expected in subject, (address, subject)
        assert history.pending_count(config) == 0
    finally:
        server.stop()
