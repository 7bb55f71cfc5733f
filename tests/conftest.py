"""Fixtures that build small sites in a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from feedkit.config import Config, load_config
from feedkit.newsletter import subscriptions
from feedkit.newsletter.csvfiles import SubscriberRow

BASE_CONFIG = """\
[site]
title = "Test Reviews"
base_url = "https://reviews.example.org/"
description = "Reviews for tests."
timezone = "Europe/London"
author = "The Desk"
"""

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
