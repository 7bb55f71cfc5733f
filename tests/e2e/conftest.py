"""Fixtures the end-to-end tests share: a Chromium for a module's browser tests and a real SMTP
server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.e2e.browser import chromium
from tests.smtp_server import SmtpServer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for all the tests of a module; a module that wants one a test
    defines its own `browser`."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server for the test, stopped after it."""
    server = SmtpServer().start()
    yield server
    server.stop()
