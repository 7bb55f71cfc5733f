"""A new reader, in headless Chromium against `feedkit serve` as a process: subscribes from the
site, confirms from the mail a real SMTP server received, picks topics, and receives only what
they chose, once."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from feedkit import pipeline
from feedkit.config import Config, load_config
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns
from tests.conftest import BLU_RAY_TOPIC, import_rows, write_site
from tests.e2e.browser import NEEDS_CHROMIUM
from tests.processes import serving
from tests.smtp_server import SmtpServer, free_port

pytestmark = NEEDS_CHROMIUM
READER = "zoe@example.org"


def dated(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


REVIEWS: dict[str, str | bytes] = {
    "vertigo.md": f"---\ntitle: Vertigo Blu-ray\ndate: {dated(1)}\ntags: [blu-ray]\n---\nA.\n",
    "ran.md": f"---\ntitle: Ran DVD\ndate: {dated(2)}\ntags: [dvd]\n---\nB.\n",
}
TOPICS = f"""
{BLU_RAY_TOPIC}
[[topics]]
name = "dvd"
title = "DVDs"
tags = ["dvd"]
"""


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer, port: int, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", "subscribe-browser-secret-long")
    extra = (
        '[digest]\nfrom_address = "digest@reviews.example.org"\ntransport = "smtp"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        f'[web]\nurl = "http://127.0.0.1:{port}/"\n' + TOPICS
    )
    config = load_config(write_site(tmp_path, REVIEWS, extra))
    pipeline.build(config)
    import_rows(config, [["all@example.org"]])
    return config


@pytest.fixture
def server_url(site: Config, port: int) -> Iterator[str]:
    with serving(site.root, port, dict(os.environ)) as url:
        yield url


def mail_to(smtp: SmtpServer, address: str, count: int) -> EmailMessage:
    """The count-th message the server received for the address, waiting for it to come."""
    deadline = time.monotonic() + 15
    while len(smtp.handler.by_recipient().get(address, [])) < count:
        assert time.monotonic() < deadline, f"no message {count} for {address}"
        time.sleep(0.05)
    return smtp.handler.by_recipient()[address][count - 1].message


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def test_a_reader_subscribes_confirms_chooses_and_receives_only_that(
    browser: Browser, server_url: str, smtp: SmtpServer, site: Config, tmp_path: Path
) -> None:
    """The whole way in a browser; then one digest run: Blu-ray only for them, all for another."""
    page = browser.new_page()
    page.goto(f"{server_url}/subscribe")
    box = page.locator(".hp").bounding_box()
    assert box is not None
    assert box["width"] * box["height"] <= 1  # clipped to a pixel: people never see the honeypot
    page.fill("input[name=email]", READER)
    page.fill("input[name=name]", "Zoe")
    page.check("text=Blu-ray releases")
    page.wait_for_timeout(2200)  # a person takes longer than min_form_seconds to fill it in
    page.click("button:has-text('Subscribe')")
    expect(page.locator("h1")).to_have_text("Check your inbox")
    page.screenshot(path=str(tmp_path / "check-inbox.png"), full_page=True)

    confirmation = mail_to(smtp, READER, 1)
    assert confirmation["Subject"] == "Confirm your subscription to Test Reviews"
    found = re.search(r"http://\S+/confirm\?t=\S+", text_of(confirmation))
    assert found is not None
    page.goto(found.group())
    expect(page.locator("h1")).to_have_text("Confirm your subscription")
    page.click("button:has-text('Yes, subscribe me')")
    expect(page.locator("h1")).to_have_text("You are subscribed")

    page.click("text=Manage your subscription")
    expect(page.locator("h1")).to_have_text("Your subscription")
    expect(page.locator("input[value=blu-ray]")).to_be_checked()
    expect(page.locator("input[value=dvd]")).not_to_be_checked()
    page.screenshot(path=str(tmp_path / "preferences.png"), full_page=True)

    run = campaigns.deliver(site, lambda: open_transport(site))
    assert run.failure is None
    digest = mail_to(smtp, READER, 2)
    assert "Vertigo Blu-ray" in text_of(digest)
    assert "Ran DVD" not in text_of(digest)
    everything = mail_to(smtp, "all@example.org", 1)
    assert "Vertigo Blu-ray" in text_of(everything)
    assert "Ran DVD" in text_of(everything)
    assert campaigns.deliver(site, lambda: open_transport(site)).reports == []
    assert len(smtp.handler.by_recipient()[READER]) == 2
