"""The editors' status page shows what came back: bounces and complaints per digest, the complaint
rate against the 0.3 % line, and the messages kept aside."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from feedkit import pipeline
from feedkit.config import Config, load_config
from feedkit.mail.mailboxes import OneMessage
from feedkit.mail.transports import open_transport
from feedkit.newsletter import bounces, campaigns
from feedkit.newsletter.messages import DigestMessages
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from feedkit.tokens import Tokens
from feedkit.web.app import create_app
from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import parse_html, write_site
from tests.returned_mail import complaint, dsn
from tests.state_setup import add_readers
from tests.test_newsletter import REVIEWS
from tests.test_web import PASSWORD, log_in, quick_hash

SECRET = "web-bounces-secret-long-enough"  # noqa: S105 - a test value
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SETTINGS = """\
[digest]
from_address = "digest@reviews.example.org"
bounce_address = "bounces+{token}@reviews.example.org"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv(ADMIN_HASH_ENV, quick_hash(PASSWORD))
    site = load_config(write_site(tmp_path, REVIEWS, SETTINGS))
    pipeline.build(site)
    add_readers(site, [f"reader{number:02d}@example.org" for number in range(40)])
    return site


@pytest.fixture
def client(config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(config), base_url="http://testserver") as test_client:
        log_in(test_client)
        yield test_client


def send_and_return(config: Config) -> None:
    """A digest to 40 readers; one hard bounce, one complaint, one message nobody can read."""
    campaigns.send(config, lambda: open_transport(config))
    with Store(config.database_path) as store:
        messages = DigestMessages(config, mailstate.load_digest(store, 1), Tokens(SECRET.encode()))
    ann, bob = "reader01@example.org", "reader02@example.org"
    returned = [
        dsn(to=messages.envelope_sender(ann), recipient=ann),
        complaint(envelope_sender=messages.envelope_sender(bob), recipient=bob),
        b"From: someone@example.net\nSubject: hello\n\nIs this the film club?\n",
    ]
    for data in returned:
        bounces.ingest(config, OneMessage(data), NOW)


def texts(page: Any, path: str) -> list[str]:
    """The text of each node at `path`, its white space collapsed."""
    return [" ".join(node.text_content().split()) for node in page.xpath(path)]


def test_status_page_shows_bounces_complaints_and_the_rate(
    config: Config, client: TestClient
) -> None:
    """Each digest's row says its hard and soft bounces, complaints and complaint rate, and a
    rate above 0.3 % is called out; the messages kept aside are counted with where they are."""
    send_and_return(config)
    page = parse_html(client.get("/admin/status").text)
    [row] = page.xpath("//table[@class='digests returned']/tbody/tr[1]")
    cells = [" ".join(cell.text_content().split()) for cell in row.xpath("td")]
    assert cells[1:] == ["1", "0", "1", "2.50 %"]
    assert texts(page, "//table[@class='digests returned']/tbody/tr[2]/td") == [
        "Above the 0.3 % line: Gmail and Yahoo may turn the next digest away. See who "
        "complained with feedkit subscribers list --status complained."
    ]
    assert texts(page, "//p[@id='kept']") == [
        "1 returned message kept aside, not understood or traced to nobody, in "
        f"{config.kept_bounces_dir}: feedkit bounces kept lists them."
    ]


def test_status_page_before_anything_came_back(config: Config, client: TestClient) -> None:
    """With nothing returned yet, the page says so in a sentence, with no table of zeros and no
    line about kept messages."""
    campaigns.send(config, lambda: open_transport(config))
    page = parse_html(client.get("/admin/status").text)
    assert page.xpath("//table[@class='digests returned']") == []
    assert texts(page, "//p[@id='nothing-back']") == [
        "No bounce or complaint has come back from these digests."
    ]
    assert page.xpath("//p[@id='kept']") == []
