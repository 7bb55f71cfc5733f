"""Headless Chromium for the browser tests: Debian's, found on the PATH, run with flags that keep
it quiet, and launched through Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "Chromium is not installed (make test installs it)"
NEEDS_CHROMIUM = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
# No sandbox (containers), no GPU, and nothing it would fetch or sync on its own.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Chromium launched headless with FLAGS through Playwright; closed when the block ends."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()
