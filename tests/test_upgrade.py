"""Upgrading from the previous release loses nothing: its state database (made by feedkit 0.1.0,
kept in tests/fixtures/release-0.1.0 with the site it served) upgrades in place.

The fixture holds four subscribers (one unsubscribed), a finished digest whose messages are in
outbox/, a second digest frozen with three deliveries still pending, a review whose slug was edited
after it was published (its feed id is remembered), and the feeds that release wrote.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from feedkit.config import load_config
from feedkit.web.app import create_app

FIXTURE = Path(__file__).parent / "fixtures" / "release-0.1.0"
SECRET = "upgrade-test-secret-long-enough"  # noqa: S105 - the secret the fixture was made with
ENV = {**os.environ, "FEEDKIT_SECRET": SECRET}
FEEDS = sorted(
    str(path.relative_to(FIXTURE / "public"))
    for path in (FIXTURE / "public").rglob("*")
    if path.name in ("feed.xml", "atom.xml", "feed.json")
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(FIXTURE, copy)
    return copy


def feedkit(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedkit.cli", *args]
    return subprocess.run(command, cwd=site, env=ENV, capture_output=True, text=True, check=False)


def message_ids(outbox: Path) -> list[str]:
    parsed = (
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in outbox.iterdir()
    )
    return [str(message["Message-ID"]) for message in parsed]


def test_subscribers_and_unsubscribes_survive(site: Path) -> None:
    """Every subscriber is still there, and the one who left is still out."""
    listed = feedkit(site, "subscribers", "list")
    assert listed.returncode == 0, listed.stderr
    statuses = dict(line.split("\t")[:2] for line in listed.stdout.splitlines())
    assert statuses["dan@example.org"] == "unsubscribed"
    assert {
        statuses[name] for name in ("ann@example.org", "bob@example.org", "cat@example.org")
    } == {"active"}


def test_the_pending_digest_resumes_exactly_once_with_its_message_ids(site: Path) -> None:
    """The digest frozen by 0.1.0 goes to its three recipients once, with Message-IDs in the form
    that release gave (a resend of an old digest must match what it may already have sent)."""
    resumed = feedkit(site, "digest", "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("Sent digest 2: 3 sent, 0 failed")
    assert feedkit(site, "digest", "resume").stdout.startswith("Nothing to resume")
    ids = message_ids(site / "outbox")
    assert len(ids) == 6
    assert Counter(value.split(".")[0] for value in ids) == {"<digest-1": 3, "<digest-2": 3}
    assert all(
        re.fullmatch(r"<digest-[12]\.[0-9a-f]{20}@upgrade\.example\.org>", value) for value in ids
    )
    assert feedkit(site, "digest", "send", "--yes").stdout.startswith("Nothing new")


def test_feeds_rebuild_byte_identical_with_the_same_ids(site: Path) -> None:
    """With every feed file deleted, the upgraded build writes them again byte for byte; the review
    whose slug changed keeps the id it was first published under."""
    for relative in FEEDS:
        (site / "public" / relative).unlink()
    built = feedkit(site, "build")
    assert built.returncode == 0, built.stderr
    for relative in FEEDS:
        assert (site / "public" / relative).read_bytes() == (
            FIXTURE / "public" / relative
        ).read_bytes()
    atom = (site / "public" / "categories" / "dvd" / "atom.xml").read_text(encoding="utf-8")
    assert "<id>tag:upgrade.example.org,2026-10-15:/reviews/2026/brief-encounter/</id>" in atom
    assert "/reviews/2026/brief-encounter-criterion-dvd/" in atom  # the link follows the new slug


def test_unsubscribe_links_in_mail_already_sent_still_work(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-click link in a message 0.1.0 sent still unsubscribes its reader."""
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    config = load_config(site / "config.toml")
    sent = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (site / "outbox").iterdir()
    ]
    ann = next(message for message in sent if message["To"] == "ann@example.org")
    link = re.search(r"<(https://[^>]+)>", str(ann["List-Unsubscribe"]))
    assert link
    path = link[1].removeprefix("https://upgrade.example.org")
    with TestClient(create_app(config)) as client:
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    listed = feedkit(site, "subscribers", "list", "--status", "unsubscribed").stdout
    assert "ann@example.org" in listed


def test_a_database_from_a_newer_feedkit_is_refused(site: Path) -> None:
    """A state database that a later feedkit has migrated further is refused in one line, and left
    as it was."""
    database = site / ".feedkit" / "state.db"
    db = sqlite3.connect(database)
    with db:
        db.execute(
            "INSERT INTO migrations VALUES ('9999_from_the_future', '2030-01-01T00:00:00+00:00')"
        )
    db.close()  # the last connection to close writes the change into the file
    before = database.read_bytes()
    refused = feedkit(site, "digest", "status")
    assert refused.returncode == 5
    assert refused.stderr.splitlines() == [
        f"error: {database.resolve()}: was written by a newer feedkit (it has "
        "9999_from_the_future); "
        "upgrade feedkit, or restore a backup made by this version"
    ]
    assert database.read_bytes() == before
