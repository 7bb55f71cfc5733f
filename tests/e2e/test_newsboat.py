"""The feeds in a second real reader: newsboat (Debian's package, installed by `make system`)
fetches each feed from disk into its own cache, and every entry it stores matches what feedparser
reads: title, link, id, author, date and text."""

from __future__ import annotations

import calendar
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import feedparser
import pytest

from feedkit.config import Config
from tests.conftest import SiteMaker
from tests.test_feeds import CORPUS, build

NEWSBOAT = shutil.which("newsboat")

pytestmark = pytest.mark.skipif(
    NEWSBOAT is None, reason="newsboat is not installed (Debian package newsboat; make system)"
)

Entry = tuple[str, str, str, str, int]  # title, link, id, author, published (Unix time)


def newsboat_entries(feed: Path, home: Path) -> list[Entry]:
    """What newsboat stores for `feed` after one reload, newest first.

    Each feed gets a cache of its own: newsboat keeps one item per id across all its feeds, and
    the same review rightly has the same id in RSS and in Atom."""
    home.mkdir()
    urls = home / "urls"
    urls.write_text(f"{feed.as_uri()}\n", encoding="utf-8")
    cache = home / "cache.db"
    command = [str(NEWSBOAT), "-u", str(urls), "-c", str(cache), "-C", os.devnull, "-x", "reload"]
    env = {**os.environ, "HOME": str(home)}
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=60)
    with sqlite3.connect(cache) as db:
        rows = db.execute(
            "SELECT title, url, guid, author, pubDate FROM rss_item ORDER BY pubDate DESC"
        ).fetchall()
        (textless,) = db.execute("SELECT COUNT(*) FROM rss_item WHERE content = ''").fetchone()
    assert textless == 0, "an entry reached newsboat without its text"
    return [(str(t), str(u), str(g), str(a), int(p)) for t, u, g, a, p in rows]


def feedparser_entries(feed: Path) -> list[Entry]:
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [
        (
            entry.title,
            entry.link,
            entry.id,
            entry.author_detail.name,  # feedparser's `author` adds the e-mail
            calendar.timegm(entry.published_parsed),
        )
        for entry in parsed.entries
    ]


@pytest.fixture
def site(make_site: SiteMaker) -> Config:
    config = make_site(CORPUS)
    build(config)
    return config


@pytest.mark.parametrize("relative", ["feed.xml", "atom.xml", "categories/blu-ray/feed.xml"])
def test_newsboat_reads_every_entry_as_feedparser_does(
    site: Config, relative: str, tmp_path: Path
) -> None:
    """Titles with markup characters and emoji, links, ids, authors and dates come out of
    newsboat exactly as feedparser reads them, and nothing is missing."""
    feed = site.output_dir / relative
    read = newsboat_entries(feed, tmp_path / "newsboat")
    expected = feedparser_entries(feed)
    assert read == expected
    assert len(read) >= 2


def test_newsboat_reads_the_tricky_title_whole(site: Config, tmp_path: Path) -> None:
    """The title with '&', quotes, angle brackets and an emoji is shown as written."""
    titles = [entry[0] for entry in newsboat_entries(site.output_dir / "atom.xml", tmp_path / "n")]
    assert 'Tom & Jerry: "The <Golden> Era" 🎬 DVD' in titles
