"""The digest archive: public/digests/index.html lists every issue, each issue's page links to its
neighbours and the index, and a feed of past digests is written by the site's feed writers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from feedkit.config import Config, load_config
from feedkit.mail.transports import FileTransport
from feedkit.newsletter import campaigns
from feedkit.newsletter.archive import NAV_START, with_navigation
from feedkit.store.archives import archived_digests
from feedkit.store.db import open_store
from tests.conftest import parse_html, write_site
from tests.test_newsletter import REVIEWS, review, subscribe

BASE = "https://reviews.example.org/"


@pytest.fixture
def site_maker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Config]:
    monkeypatch.setenv("FEEDKIT_SECRET", "archive-test-secret-long-enough")

    def make(extra_config: str = "") -> Config:
        digest = '[digest]\nfrom_address = "digest@reviews.example.org"\n' + extra_config
        return load_config(write_site(tmp_path, REVIEWS, digest))

    return make


@pytest.fixture
def two_issues(site_maker: Callable[..., Config]) -> Config:
    """A site that has sent two digests: Vertigo and Ran, then Alien."""
    config = site_maker()
    subscribe(config, 1)
    campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    (config.content_dir / "alien.md").write_text(review("Alien Blu-ray", 0), "utf-8")
    campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    return config


def issue_urls(config: Config) -> list[str]:
    with open_store(config, readonly=True) as store:
        return [issue.archive_url for issue in archived_digests(store)]


def page(config: Config, url: str) -> str:
    return (config.output_dir / url.removeprefix(BASE)).read_text(encoding="utf-8")


def nav_links(html: str) -> dict[str, str]:
    tree = parse_html(html)
    return {link.text: link.get("href") for link in tree.xpath(".//nav[@class='issues-nav']/a")}


def test_the_index_lists_every_issue_newest_first(two_issues: Config) -> None:
    """Date, subject and link of each issue, the newest on top, and the digest feeds beside."""
    first, second = issue_urls(two_issues)
    index = parse_html((two_issues.output_dir / "digests/index.html").read_bytes())
    links = [(link.text, link.get("href")) for link in index.xpath(".//ol/li/a")]
    assert links == [
        ("Test Reviews: 1 new review, including Alien Blu-ray", second),
        ("Test Reviews: 2 new reviews, including Vertigo Blu-ray", first),
    ]
    assert index.xpath(".//ol/li/span/time/text()")[0] == two_issues_date(two_issues)
    assert index.xpath(".//link[@rel='alternate']/@href") == ["feed.xml", "atom.xml", "feed.json"]


def two_issues_date(config: Config) -> str:
    with open_store(config, readonly=True) as store:
        newest = archived_digests(store)[-1].created_at
    return f"{newest.astimezone(config.zone):%-d %B %Y}"


def test_each_issue_links_to_its_neighbours_and_the_index(two_issues: Config) -> None:
    """The first issue gained a link to the second when it was sent; the second links back."""
    first, second = issue_urls(two_issues)
    assert nav_links(page(two_issues, first)) == {
        "All issues": BASE + "digests/",
        "Next issue →": second,
    }
    assert nav_links(page(two_issues, second)) == {
        "← Previous issue": first,
        "All issues": BASE + "digests/",
    }
    assert page(two_issues, first).count(NAV_START) == 1  # replaced, not added twice


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_past_digests_have_a_feed(two_issues: Config, name: str) -> None:
    """One entry per issue, newest first: its subject, its page, and the reviews it held."""
    parsed = feedparser.parse((two_issues.output_dir / "digests" / name).read_bytes())
    assert not parsed.bozo
    assert parsed.feed.title == "Test Reviews: past digests"
    first, second = issue_urls(two_issues)
    assert [(entry.title, entry.link) for entry in parsed.entries] == [
        ("Test Reviews: 1 new review, including Alien Blu-ray", second),
        ("Test Reviews: 2 new reviews, including Vertigo Blu-ray", first),
    ]
    assert parsed.entries[1].summary == "2 reviews: Vertigo Blu-ray, Ran 4K UHD"


def test_the_json_feed_of_digests_follows_the_spec(two_issues: Config) -> None:
    """Version 1.1, its own feed_url, string ids that are the issues' pages."""
    feed = json.loads((two_issues.output_dir / "digests/feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == BASE + "digests/feed.json"
    assert [item["id"] for item in feed["items"]] == issue_urls(two_issues)[::-1]


def test_without_an_archive_nothing_is_written(site_maker: Callable[..., Config]) -> None:
    """archive = false: no issue page, so no index and no digest feed."""
    config = site_maker("archive = false\n")
    subscribe(config, 1)
    campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    assert not (config.output_dir / "digests").exists()


def test_a_page_without_a_body_tag_is_left_as_it_is() -> None:
    """A site's own template that writes no <body> gets no bar, and is not broken by trying."""
    assert with_navigation("<p>Just a fragment</p>", None, BASE + "digests/", None) == (
        "<p>Just a fragment</p>"
    )
