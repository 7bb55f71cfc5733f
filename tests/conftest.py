"""Fixtures and helpers that build small sites in a temporary folder, set the secret, start SMTP
servers, and run the `feedkit` command in-process."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lxml import html as lxml_html

from feedkit import pipeline
from feedkit.cli.main import main
from feedkit.config import Config, load_config
from feedkit.newsletter import subscriptions
from feedkit.newsletter.csvfiles import SubscriberRow
from tests.smtp_server import Faults, SmtpServer

BASE_CONFIG = """\
[site]
title = "Test Reviews"
base_url = "https://reviews.example.org/"
description = "Reviews for tests."
timezone = "Europe/London"
author = "The Desk"
"""
BLU_RAY_TOPIC = '[[topics]]\nname = "blu-ray"\ntitle = "Blu-ray releases"\ntags = ["blu-ray"]\n'
SECRET = "a-test-secret-that-is-long-enough"  # noqa: S105 - a test value

SiteMaker = Callable[..., Config]


def write_site(root: Path, reviews: Mapping[str, str | bytes], extra_config: str = "") -> Path:
    """Write config.toml and the given review files (path -> text or raw bytes) under `root`."""
    config_path = root / "config.toml"
    config_path.write_text(BASE_CONFIG + textwrap.dedent(extra_config), encoding="utf-8")
    content = root / "content"
    content.mkdir(exist_ok=True)
    for relative, text in reviews.items():
        target = content / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return config_path


@pytest.fixture
def make_site(tmp_path: Path) -> SiteMaker:
    """Build a site from {relative path: file text} and return its loaded Config."""

    def make(reviews: dict[str, str | bytes], extra_config: str = "") -> Config:
        return load_config(write_site(tmp_path, reviews, extra_config))

    return make


def parse_html(data: bytes | str) -> Any:
    """A page as an lxml tree, walked dynamically: the stubs type xpath() results too loosely."""
    return lxml_html.fromstring(data)


def import_rows(config: Config, rows: Iterable[Sequence[str]]) -> subscriptions.ImportReport:
    """Import (address[, name]) rows as an editor with every reader's consent would."""
    found = [SubscriberRow(*row) for row in rows]
    return subscriptions.import_subscribers(config, found, confirmed=True)


def yesterdays_review(title: str) -> str:
    """A review file dated a day ago, with a summary: one the next digest takes in."""
    date = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"---\ntitle: {title}\ndate: {date}\nsummary: A standfirst.\n---\nBody.\n"


@contextmanager
def built_site(
    root: Path, reviews: Mapping[str, str | bytes], extra_config: str, secret: str
) -> Iterator[Config]:
    """A site written under `root` and built, with FEEDKIT_SECRET set to `secret` until the block
    ends: the start of a module-scoped fixture, which cannot use `monkeypatch`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEEDKIT_SECRET", secret)
        config = load_config(write_site(root, reviews, extra_config))
        pipeline.build(config)
        yield config


@pytest.fixture
def feedkit_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """FEEDKIT_SECRET set to SECRET for the test; a module asks for it with
    `pytestmark = pytest.mark.usefixtures("feedkit_secret")`."""
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)


@pytest.fixture
def server_with() -> Iterator[Callable[..., SmtpServer]]:
    """Start a real SMTP server on demand: `server_with(faults, pipelining=False, port=N)`, each
    argument optional; every server started is stopped when the test ends."""
    started: list[SmtpServer] = []

    def start(
        faults: Faults | None = None, *, pipelining: bool = True, **kwargs: object
    ) -> SmtpServer:
        running = SmtpServer(faults, **kwargs)
        running.handler.pipelining = pipelining  # False: a server that does not offer it
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def invoke(root: Path, *args: str) -> Result:
    """Run the CLI in-process from the site's folder, as an editor would from a shell."""
    previous = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(previous)
