"""The pages a reader or an editor sees, as a designer would check them: in Chromium at 1280 and
375 px, light and dark, every text readable against its background (WCAG AA), nothing wider than
a phone's screen, and controls that do not touch. Screenshots go to the test's folder."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from feedkit import pipeline
from feedkit.config import Config
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns
from feedkit.tokens import Purpose, Tokens
from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import BLU_RAY_TOPIC, built_site, import_rows
from tests.e2e.browser import NEEDS_CHROMIUM
from tests.processes import serving
from tests.smtp_server import free_port
from tests.test_newsletter import review
from tests.test_web import quick_hash

pytestmark = NEEDS_CHROMIUM
SECRET = "design-test-secret-long-enough"  # noqa: S105 - a test value
PASSWORD = "correct horse battery"  # noqa: S105 - a test value
SIZES = {"desktop": 1280, "phone": 375}
SCHEMES = ["light", "dark"]
PAGES = ["home", "admin", "digest", "archive", "subscribe", "preferences", "feed", "digests"]

# Every visible text against the colour behind it, as WCAG 2 computes contrast: 4.5 for normal
# text, 3 for large (24 px, or 18.66 px bold). Each failure comes back as a short description.
CONTRAST = """
() => {
  const parse = (text) => {
    const srgb = text.match(/color\\(srgb ([^)]+)\\)/);
    const rgb = text.match(/rgba?\\(([^)]+)\\)/);
    const found = srgb || rgb;
    if (!found) return null;
    const parts = found[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    const scale = srgb ? 255 : 1;
    return [parts[0] * scale, parts[1] * scale, parts[2] * scale, parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]))
    .concat([1]);
  const dark = matchMedia("(prefers-color-scheme: dark)").matches
    && getComputedStyle(document.documentElement).colorScheme.includes("dark");
  const canvas = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
  const backgroundOf = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour[3] > 0) {
        layers.push(colour);
        if (colour[3] >= 1) break;
      }
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), canvas);
  };
  const opacityOf = (element) => {
    let opacity = 1;
    for (let node = element; node; node = node.parentElement) {
      opacity *= Number(getComputedStyle(node).opacity);
    }
    return opacity;
  };
  const luminance = (colour) => {
    const [r, g, b] = colour.slice(0, 3).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [light, darker] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (darker + 0.05);
  };
  const hasText = (element) => ["INPUT", "TEXTAREA"].includes(element.tagName)
    ? element.type !== "hidden" && element.value.trim() !== ""
    : [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== "");
  const failures = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE"].includes(element.tagName) || !hasText(element)) continue;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (style.visibility !== "visible" || box.width === 0 || box.height === 0) continue;
    const background = backgroundOf(element);
    const text = parse(style.color);
    text[3] *= opacityOf(element);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    const measured = ratio(over(text, background), background);
    if (measured < needed) {
      const words = (element.value || element.textContent).trim().slice(0, 40);
      failures.push(`${element.tagName}.${element.className} "${words}": ${measured.toFixed(2)}`
        + ` < ${needed} (${style.color} on rgb(${background.slice(0, 3).map(Math.round)}))`);
    }
  }
  return failures;
}
"""

# Elements that reach past the window's right edge (or left of 0), outside any scrolling box.
OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (node) => ["auto", "scroll", "hidden"]
    .includes(getComputedStyle(node).overflowX);
  const inScroller = (element) => {
    for (let node = element.parentElement; node !== document.body; node = node.parentElement) {
      if (scrolls(node)) return true;
    }
    return false;
  };
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || inScroller(element)) continue;
    if (box.right > width + 0.5 || box.left < -0.5) {
      const span = `${Math.round(box.left)}–${Math.round(box.right)}`;
      wide.push(`${element.tagName}.${element.className}: ${span}`);
    }
  }
  return {page: document.documentElement.scrollWidth, window: width, wide: wide};
}
"""

# Buttons, button-like links and fields that touch or overlap another one (less than 6 px apart);
# a control hidden from everyone (aria-hidden, clipped: the subscribe form's honeypot) is none.
CROWDED = """
() => {
  const controls = [...document.querySelectorAll("button, .button, input:not([type=hidden])")]
    .filter(element => element.getBoundingClientRect().width > 0)
    .filter(element => !element.closest("[aria-hidden=true]"));
  const crowded = [];
  controls.forEach((a, i) => controls.slice(i + 1).forEach(b => {
    const [x, y] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
    const apart = Math.max(x.left - y.right, y.left - x.right, x.top - y.bottom, y.top - x.bottom);
    const name = (control) => control.textContent.trim() || control.name;
    if (apart < 6) crowded.push(`${name(a)} / ${name(b)}`);
  }));
  return crowded;
}
"""


def dated_review(title: str, hours_ago: float, **extra: str) -> str:
    date = (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")
    lines = "".join(f"{key}: {value}\n" for key, value in extra.items())
    return f'---\ntitle: "{title}"\ndate: {date}\n{lines}---\nAbout {title}.\n'


VERTIGO = {"rating": "4.5", "image": "/images/vertigo.jpg", "categories": "[Blu-ray]"}
REVIEWS: dict[str, str | bytes] = {
    "vertigo.md": review("Vertigo Blu-ray", 1, **VERTIGO),
    "ran.md": review("Ran 4K UHD", 2, author="Sam Critic", rating="5", categories="[4K UHD]"),
}
SCHEDULE = f"""
[digest]
from_address = "digest@reviews.example.org"
[schedule]
digest = "0 8 * * FRI"
{BLU_RAY_TOPIC}
[[topics]]
name = "classics"
title = "Classics of world cinema, restored"
categories = ["classics"]
"""
LONG_TITLE = "Noël au cinéma: a very long title that wraps on a phone"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    """A site with category feeds, two digests sent (two archive pages) and a third one due."""
    with built_site(tmp_path_factory.mktemp("site"), REVIEWS, SCHEDULE, SECRET) as config:
        import_rows(config, [["ann@example.org"], ["bob@example.org"]])
        campaigns.send(config, lambda: open_transport(config))
        stalker = dated_review("Stalker DVD", 0.5, rating="4", image="/images/stalker.jpg")
        (config.content_dir / "stalker.md").write_text(stalker, "utf-8")
        campaigns.send(config, lambda: open_transport(config))
        time.sleep(1.1)  # the next review is dated after the second digest: it makes a third
        late = dated_review(LONG_TITLE, 0, rating="3", image="/images/noel.jpg")
        (config.content_dir / "noel.md").write_text(late, "utf-8")
        pipeline.build(config)
        yield config


@pytest.fixture(scope="module")
def server_url(site: Config) -> Iterator[str]:
    with serving(site.root, free_port(), editors_env(SECRET)) as url:
        yield url


def editors_env(secret: str) -> dict[str, str]:
    """The environment `feedkit serve` runs in for these tests: the site's secret, and the
    editors' page open to PASSWORD."""
    return {**os.environ, "FEEDKIT_SECRET": secret, ADMIN_HASH_ENV: quick_hash(PASSWORD)}


def path_of(page_name: str, site: Config) -> str:
    """Where each page is served; the archive page is the newest issue, which has one before it,
    and a feed opened in a browser is a page too."""
    folder = site.output_dir / "digests"
    preferences = Tokens(SECRET.encode()).make(Purpose.PREFERENCES, "ann@example.org")
    issues = [path for path in folder.glob("*.html") if path.name != "index.html"]
    archives = sorted(issues, key=lambda path: path.stat().st_mtime)
    paths = {
        "home": "/",
        "admin": "/admin",
        "digest": "/admin/preview",
        "subscribe": "/subscribe",
        "preferences": f"/preferences?t={preferences}",
        "feed": "/feed.xml",
        "digests": "/digests/",
    }
    return paths.get(page_name) or f"/digests/{archives[-1].name}"


def open_page(browser: Browser, url: str, page_name: str, **options: Any) -> Page:
    """A page in a fresh browser context, logged in to the editors' page where it needs that."""
    page = browser.new_context(**options).new_page()
    if page_name in ("admin", "digest"):
        page.goto(f"{url}/admin/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/admin")
    return page


VIEWS = [(name, width, scheme) for name in PAGES for width in SIZES.values() for scheme in SCHEMES]


@pytest.mark.parametrize("view", VIEWS, ids=["-".join(map(str, view)) for view in VIEWS])
def test_page_reads_well(
    browser: Browser, server_url: str, site: Config, tmp_path: Path, view: tuple[str, int, str]
) -> None:
    """Every visible text meets WCAG AA contrast against its background; at 375 px nothing reaches
    past the screen's edge; no two controls touch."""
    page_name, width, scheme = view
    viewport = {"width": width, "height": 900}
    page = open_page(browser, server_url, page_name, viewport=viewport, color_scheme=scheme)
    page.goto(server_url + path_of(page_name, site))
    page.screenshot(path=str(tmp_path / f"{page_name}-{width}-{scheme}.png"), full_page=True)
    assert page.evaluate(CONTRAST) == []
    layout = page.evaluate(OVERFLOW)
    assert (layout["wide"], layout["page"] <= layout["window"]) == ([], True)
    assert page.evaluate(CROWDED) == []
    page.context.close()


def test_copy_puts_the_full_address_on_the_clipboard(browser: Browser, server_url: str) -> None:
    """The site feed's Copy button copies its full address."""
    page = open_page(browser, server_url, "home")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(server_url)
    page.locator("button.copy").first.click()
    expect(page.locator("button.copy").first).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "https://reviews.example.org/feed.xml"
    page.context.close()


def test_addresses_show_without_javascript(browser: Browser, server_url: str) -> None:
    """Without JavaScript every address is still there to read and select; no dead Copy button."""
    page = open_page(browser, server_url, "home", java_script_enabled=False)
    page.goto(server_url)
    site_feed = page.locator(".feature .url").first
    expect(site_feed).to_have_text("https://reviews.example.org/feed.xml")
    expect(page.locator(".feed-list code").first).to_be_visible()
    assert page.locator("button.copy:visible").count() == 0
    page.context.close()


SEND_ACTIONS = """
() => ["Send now…", "Send test", "Log out"].map(text => {
  const control = [...document.querySelectorAll("a, button")]
    .find(element => element.textContent.trim() === text);
  const style = getComputedStyle(control);
  return [style.backgroundColor, style.borderTopWidth, style.fontWeight].join(" ");
})
"""


def test_send_now_looks_unlike_send_test_and_log_out(browser: Browser, server_url: str) -> None:
    """'Send now…' (it mails everyone), 'Send test' and 'Log out' are three different looks."""
    page = open_page(browser, server_url, "admin")
    looks = page.evaluate(SEND_ACTIONS)
    assert len(set(looks)) == 3, looks
    page.context.close()


# Where the rating's separator is shown: it must share the stars' line and not start a line.
SEPARATORS = """
() => [...document.querySelectorAll(".rating-separator")].map(separator => {
  const box = separator.getBoundingClientRect();
  if (box.width === 0) return "hidden";
  const stars = separator.parentElement.querySelector(".stars").getBoundingClientRect();
  const line = separator.closest("p").getBoundingClientRect();
  return box.top === stars.top && box.left > line.left + 1 ? "with the stars" : "dangling";
})
"""


@pytest.mark.parametrize("width", SIZES.values())
def test_rating_separator_never_dangles(browser: Browser, server_url: str, width: int) -> None:
    """In the digest the '·' before the stars is on their line, or not shown (a phone)."""
    page = open_page(browser, server_url, "digest", viewport={"width": width, "height": 900})
    page.goto(f"{server_url}/admin/preview")
    expected = "hidden" if width < 600 else "with the stars"
    assert page.evaluate(SEPARATORS) == [expected]
    page.context.close()


BLOCKED_COVER = """
() => {
  const cover = document.querySelector("img.cover");
  const style = getComputedStyle(cover);
  return [cover.naturalWidth, style.color, style.backgroundColor, cover.offsetHeight];
}
"""


def test_a_blocked_cover_shows_quiet_alt_text(browser: Browser, server_url: str) -> None:
    """An image that does not load leaves a grey band with muted alt text, not link-blue text."""
    page = open_page(browser, server_url, "digest", viewport={"width": 1280, "height": 900})
    page.goto(f"{server_url}/admin/preview")
    assert page.evaluate(BLOCKED_COVER) == [0, "rgb(91, 85, 76)", "rgb(230, 224, 214)", 32]
    page.context.close()
