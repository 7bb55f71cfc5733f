"""The HTML digest as a browser lays it out: headless Chromium, the real engine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.newsletter import campaigns
from tests.conftest import write_site
from tests.e2e.browser import CHROMIUM, FLAGS, NEEDS_CHROMIUM
from tests.test_newsletter import REVIEWS

pytestmark = NEEDS_CHROMIUM

MEASURE = """
<script>
  // Measured once layout has settled after load, not while the page is still being parsed.
  window.addEventListener("load", () => setTimeout(() => {
    const box = document.querySelector("table.container").getBoundingClientRect();
    document.body.setAttribute("data-container-width", String(Math.round(box.width)));
    document.body.setAttribute("data-page-width", String(document.documentElement.scrollWidth));
    document.body.setAttribute("data-window-width", String(window.innerWidth));
  }, 100));
</script>
"""


def rendered_dom(html_path: Path, width: int, profile: Path) -> str:
    """Load the page in headless Chromium at a window width and return the DOM after scripts
    ran."""
    assert CHROMIUM is not None
    window = [f"--user-data-dir={profile}", f"--window-size={width},1200"]
    window.append("--virtual-time-budget=3000")
    command = [CHROMIUM, "--headless", *FLAGS, *window, "--dump-dom", html_path.as_uri()]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)
    return completed.stdout


@pytest.fixture
def preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEEDKIT_SECRET", "browser-test-secret-long-enough")
    config: Config = load_config(write_site(tmp_path, REVIEWS))
    written = campaigns.preview(config)
    assert written.reviews == 2
    return written.html_path


def measured(preview: Path, tmp_path: Path, width: int) -> tuple[int, int, int]:
    """(column width, page width, window width) as laid out in a window `width` wide."""
    page = tmp_path / f"measure-{width}.html"
    page.write_text(
        preview.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
        encoding="utf-8",
    )
    dom = rendered_dom(page, width, tmp_path / f"profile-{width}")
    container = re.search(r'data-container-width="(\d+)"', dom)
    page_width = re.search(r'data-page-width="(\d+)"', dom)
    window = re.search(r'data-window-width="(\d+)"', dom)
    assert container and page_width and window, dom[:500]
    return int(container[1]), int(page_width[1]), int(window[1])


def test_digest_lays_out_at_600_px(preview: Path, tmp_path: Path) -> None:
    """On a desktop-width window the single column is exactly 600 px wide."""
    container, _, window = measured(preview, tmp_path, 900)
    assert window > 600
    assert container == 600


def test_digest_fits_a_narrow_window(preview: Path, tmp_path: Path) -> None:
    """On a window narrower than 600 px (headless Chromium goes down to 500) the column shrinks
    with it."""
    container, page, window = measured(preview, tmp_path, 540)
    assert window < 600
    assert container <= window
    assert page <= window  # nothing scrolls sideways


def test_digest_needs_no_external_resources(preview: Path) -> None:
    """Styles are inline or in the document; no stylesheet, script, font or frame is fetched."""
    html = preview.read_text(encoding="utf-8")
    assert "<link" not in html
    assert "<script" not in html
    assert "@import" not in html
    assert "<iframe" not in html
    assert 'style="' in html  # inlined by css-inline
