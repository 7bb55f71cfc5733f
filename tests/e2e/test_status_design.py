"""The sending status page, with what came back, as a designer would check it: in Chromium at
1280 and 375 px, light and dark, readable (WCAG AA), nothing wider than a phone, no controls
touching."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser

from feedkit.config import Config
from feedkit.mail.mailboxes import OneMessage
from feedkit.mail.transports import open_transport
from feedkit.newsletter import bounces, campaigns
from feedkit.newsletter.messages import DigestMessages
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from feedkit.tokens import Tokens
from tests.conftest import built_site
from tests.e2e.browser import NEEDS_CHROMIUM
from tests.e2e.test_web_design import (
    CONTRAST,
    CROWDED,
    OVERFLOW,
    PASSWORD,
    REVIEWS,
    SCHEMES,
    SIZES,
    editors_env,
)
from tests.processes import serving
from tests.returned_mail import complaint, dsn
from tests.smtp_server import free_port
from tests.state_setup import add_readers

pytestmark = NEEDS_CHROMIUM
SECRET = "status-design-secret-long-enough"  # noqa: S105 - a test value
SETTINGS = """\
[digest]
from_address = "digest@reviews.example.org"
bounce_address = "bounces+{token}@reviews.example.org"
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    """A digest sent to two readers: one bounced, one complained, one message kept aside."""
    with built_site(tmp_path_factory.mktemp("site"), REVIEWS, SETTINGS, SECRET) as config:
        add_readers(config, ["ann@example.org", "bob@example.org"])
        campaigns.send(config, lambda: open_transport(config))
        with Store(config.database_path) as store:
            digest = mailstate.load_digest(store, 1)
        messages = DigestMessages(config, digest, Tokens(SECRET.encode()))
        returned = [
            dsn(to=messages.envelope_sender("ann@example.org"), recipient="ann@example.org"),
            complaint(
                envelope_sender=messages.envelope_sender("bob@example.org"),
                recipient="bob@example.org",
            ),
            b"From: someone@example.net\nSubject: hello\n\nIs this the film club?\n",
        ]
        for data in returned:
            bounces.ingest(config, OneMessage(data), datetime.now(UTC))
        yield config


@pytest.fixture(scope="module")
def server_url(site: Config) -> Iterator[str]:
    with serving(site.root, free_port(), editors_env(SECRET)) as url:
        yield url


VIEWS = [(width, scheme) for width in SIZES.values() for scheme in SCHEMES]


@pytest.mark.parametrize("view", VIEWS, ids=["-".join(map(str, view)) for view in VIEWS])
def test_status_page_reads_well(
    browser: Browser, server_url: str, tmp_path: Path, view: tuple[int, str]
) -> None:
    """Every visible text on the status page, the complaint warning too, meets WCAG AA contrast;
    at 375 px nothing reaches past the screen's edge; no two controls touch."""
    width, scheme = view
    color_scheme: Literal["dark", "light"] = "dark" if scheme == "dark" else "light"
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=color_scheme
    )
    page = context.new_page()
    page.goto(f"{server_url}/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server_url}/admin")
    page.goto(f"{server_url}/admin/status")
    assert "Above the 0.3 % line" in page.inner_text("body")
    page.screenshot(path=str(tmp_path / f"status-{width}-{scheme}.png"), full_page=True)
    assert page.evaluate(CONTRAST) == []
    layout = page.evaluate(OVERFLOW)
    assert (layout["wide"], layout["page"] <= layout["window"]) == ([], True)
    assert page.evaluate(CROWDED) == []
    context.close()
