"""The web side in headless Chromium (Debian's, driven by Playwright), against `feedkit serve` as a
process."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from feedkit import pipeline
from feedkit.config import Config, load_config
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns, subscriptions
from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import import_rows, write_site
from tests.e2e.browser import NEEDS_CHROMIUM, chromium
from tests.processes import serving
from tests.smtp_server import SmtpServer, free_port
from tests.test_newsletter import REVIEWS
from tests.test_web import quick_hash

pytestmark = NEEDS_CHROMIUM
PASSWORD = "correct horse battery"  # noqa: S105 - a test value


@pytest.fixture
def site(tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", "browser-test-secret-long-enough")
    extra = (
        '[digest]\nfrom_address = "digest@reviews.example.org"\ntransport = "smtp"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
    )
    config = load_config(write_site(tmp_path, REVIEWS, extra))
    pipeline.build(config)
    import_rows(config, [["ann@example.org"], ["bob@example.org"]])
    return config


@pytest.fixture
def server_url(site: Config) -> Iterator[str]:
    env = {**os.environ, ADMIN_HASH_ENV: quick_hash(PASSWORD)}
    with serving(site.root, free_port(), env) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A Chromium of its own for each test (conftest.py's lasts a whole module)."""
    with chromium() as launched:
        yield launched


def shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


@pytest.mark.usefixtures("site")
def test_editor_logs_in_previews_tests_and_sends(
    browser: Browser, server_url: str, smtp: SmtpServer, tmp_path: Path
) -> None:
    """Log in, look at the preview, send a test that arrives, send the digest and watch its
    status."""
    page = browser.new_page()
    page.goto(f"{server_url}/admin")
    expect(page).to_have_url(f"{server_url}/admin/login")
    shot(page, tmp_path, "login")
    page.fill("input[name=password]", PASSWORD)
    page.click("text=Log in")
    expect(page.locator("h1")).to_have_text("The next digest")
    expect(page.locator("dl").first).to_contain_text("2 subscribers")
    shot(page, tmp_path, "dashboard")

    preview = browser.new_page()
    preview.context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
    preview.goto(f"{server_url}/admin/preview")
    expect(preview.locator("h2.title").first).to_have_text("Vertigo Blu-ray")
    shot(preview, tmp_path, "preview")

    page.fill("input[name=address]", "editor@example.org")
    page.click("text=Send test")
    expect(page.locator(".notice")).to_have_text("Test sent to editor@example.org")
    assert [item.recipients for item in smtp.handler.received] == [["editor@example.org"]]

    page.click("text=Send now…")
    expect(page.locator("body")).to_contain_text("2 reviews, to 2 subscribers.")
    shot(page, tmp_path, "confirm")
    page.click("text=Yes, send it now")
    expect(page).to_have_url(f"{server_url}/admin/status")
    expect(page.locator("table")).to_contain_text("Test Reviews: 2 new reviews", timeout=15_000)
    page.wait_for_function("() => !document.body.innerText.includes('Sending…')", timeout=15_000)
    shot(page, tmp_path, "status")
    received = sorted(r for item in smtp.handler.received for r in item.recipients)
    assert received == ["ann@example.org", "bob@example.org", "editor@example.org"]


def test_subscriber_unsubscribes_through_the_link_in_the_mail(
    browser: Browser, server_url: str, site: Config, smtp: SmtpServer, tmp_path: Path
) -> None:
    """The link in a received message leads to one button; after it, the next digest skips that
    address."""
    campaigns.send(site, lambda: open_transport(site))
    message = smtp.handler.by_recipient()["ann@example.org"][0].message
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    link = re.search(r'href="(https://reviews\.example\.org/unsubscribe\?t=[^"]+)"', html)
    assert link
    page = browser.new_page()
    page.goto(link[1].replace("https://reviews.example.org", server_url).replace("&amp;", "&"))
    expect(page.locator("body")).to_contain_text("ann@example.org")
    shot(page, tmp_path, "unsubscribe")
    page.click("button:has-text('Unsubscribe')")
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    shot(page, tmp_path, "unsubscribed")
    assert [s.address for s in subscriptions.list_subscribers(site, "active")] == [
        "bob@example.org"
    ]

    date = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    (site.content_dir / "new.md").write_text(
        f"---\ntitle: Stalker Blu-ray\ndate: {date}\n---\nZone.\n", "utf-8"
    )
    before = len(smtp.handler.received)
    campaigns.send(site, lambda: open_transport(site))
    assert [item.recipients for item in smtp.handler.received[before:]] == [["bob@example.org"]]


def test_home_page_offers_every_feed(browser: Browser, server_url: str, tmp_path: Path) -> None:
    """The home page shows the site feed's address and the browser sees the autodiscovery links."""
    page = browser.new_page()
    page.goto(server_url)
    site_feed = page.locator(".feature .url").first
    expect(site_feed).to_have_text("https://reviews.example.org/feed.xml")
    hrefs = page.eval_on_selector_all(
        "link[rel=alternate]", "links => links.map(link => link.getAttribute('href'))"
    )
    assert hrefs == ["/feed.xml", "/atom.xml", "/feed.json"]
    shot(page, tmp_path, "home")


def test_feeds_with_non_ascii_text_read_correctly_in_the_browser(
    browser: Browser, server_url: str, site: Config
) -> None:
    """A feed opened in Chromium shows 'Noël', '©' and '★' as written, not read as Latin-1
    ('NoÃ«l', 'Â©', 'â˜…')."""
    date = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    text = f"---\ntitle: Noël © Studio ★ classics\ndate: {date}\n---\nCafé.\n"
    (site.content_dir / "noel.md").write_text(text, encoding="utf-8")
    pipeline.build(site)
    page = browser.new_page()
    for name in ("feed.xml", "atom.xml", "feed.json"):
        page.goto(f"{server_url}/{name}")
        shown = page.locator("body").inner_text()
        assert "Noël © Studio ★ classics" in shown, name
        assert "Ã" not in shown, name


def test_a_feed_opened_in_the_browser_is_a_readable_page(
    browser: Browser, server_url: str, tmp_path: Path
) -> None:
    """Chromium asking for /feed.xml gets a page, not XML or an XSLT notice: the feed's title,
    what a feed is, its address with a Copy button, and each review as a link."""
    page = browser.new_page()
    response = page.goto(f"{server_url}/feed.xml")
    assert response is not None
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    expect(page.locator("h1")).to_have_text("Test Reviews")
    expect(page.locator(".about h2")).to_have_text("This page is a feed (RSS)")
    expect(page.locator("#feed-url")).to_have_text("https://reviews.example.org/feed.xml")
    expect(page.locator("button.copy")).to_be_visible()
    expect(page.locator(".entries h2 a")).to_have_text(
        ["Vertigo Blu-ray", "Ran 4K UHD", "An Old Review"]
    )
    assert "XSLT" not in page.locator("body").inner_text()
    shot(page, tmp_path, "feed-page")
