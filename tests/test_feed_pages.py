"""Feeds a browser can read: `feedkit serve` answers a browser with a page and a feed reader with
the feed, at one URL (Vary: Accept), and names the feed's hubs and itself in Link headers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from starlette.testclient import TestClient

from feedkit import pipeline
from feedkit.config import Config, load_config
from feedkit.web.app import create_app
from feedkit.web.login import ADMIN_HASH_ENV
from feedkit.web.public import prefers_html
from tests.conftest import parse_html, write_site
from tests.test_archives import SIX_MONTHS
from tests.test_web import PASSWORD, SECRET, quick_hash

NOW = datetime(2024, 7, 20, 12, 0, tzinfo=UTC)
BASE = "https://reviews.example.org/"
HUB = "https://hub.example.net/"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER = "application/rss+xml, application/rdf+xml;q=0.8, application/atom+xml;q=0.6, */*;q=0.1"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv(ADMIN_HASH_ENV, quick_hash(PASSWORD))
    site = load_config(write_site(tmp_path, SIX_MONTHS, "[feeds]\nlimit = 3\n"))
    pipeline.build(site, now=NOW)
    # The hub only for serving: a build would ping it, and it is no host of ours.
    return dataclasses.replace(site, feeds=dataclasses.replace(site.feeds, websub_hubs=(HUB,)))


@pytest.fixture
def client(config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(config), base_url="http://testserver") as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (CHROME, True),
        (FIREFOX, True),
        ("application/xhtml+xml", True),
        (READER, False),
        ("*/*", False),
        ("", False),
        ("application/atom+xml, text/html", False),
        ("text/html;q=0.5, application/atom+xml", False),
        ("application/atom+xml;q=0.4, text/html;q=0.9", True),
        ("text/html;q=x", False),
    ],
)
def test_html_is_chosen_only_when_it_comes_first(accept: str, html: bool) -> None:
    """The highest q wins, then the first written; a q that is no number counts as 0."""
    assert prefers_html(accept) is html


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml", "feed.json"])
def test_a_browser_gets_a_readable_page(client: TestClient, name: str) -> None:
    """Chromium's Accept header brings an HTML page with the feed's title, what it is, its
    address to copy and its entries, newest first."""
    response = client.get(f"/{name}", headers={"Accept": CHROME})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    page = parse_html(response.text)
    assert page.findtext(".//h1") == "Test Reviews"
    assert page.findtext(".//code[@id='feed-url']") == BASE + name
    assert page.xpath("string(.//section[@class='card about']//h2)").startswith(
        "This page is a feed"
    )
    titles = [link.text for link in page.xpath(".//ul[@class='entries']//h2/a")]
    assert titles == ["Review 6-4", "Review 6-3", "Review 6-2"]
    assert page.xpath(".//a[@href='/subscribe']/text()") == ["Subscribe by e-mail"]


@pytest.mark.parametrize("accept", [READER, "*/*", None])
def test_a_feed_reader_gets_the_feed_itself(client: TestClient, accept: str | None) -> None:
    """A reader's Accept header, */* or none: the Atom document, with Vary: Accept."""
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/atom.xml", headers=headers)
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert not feedparser.parse(response.content).bozo


def test_the_page_and_the_feed_have_their_own_etags(client: TestClient) -> None:
    """A cache can never answer a browser with the feed's ETag, and each revalidates to 304."""
    page = client.get("/feed.xml", headers={"Accept": CHROME})
    feed = client.get("/feed.xml", headers={"Accept": READER})
    assert page.headers["etag"] != feed.headers["etag"]
    again = client.get(
        "/feed.xml", headers={"Accept": CHROME, "If-None-Match": page.headers["etag"]}
    )
    assert again.status_code == 304


def test_link_headers_name_the_hub_and_the_feed(client: TestClient) -> None:
    """WebSub discovery over HTTP: rel=hub for each hub and rel=self for the feed's own URL."""
    response = client.get("/atom.xml")
    assert response.headers["link"] == f'<{HUB}>; rel="hub", <{BASE}atom.xml>; rel="self"'


def test_an_archive_names_no_hub_and_its_page_links_its_neighbours(client: TestClient) -> None:
    """An archive never changes, so no hub; its page says it is an archive and links to the
    newer and older months on this server."""
    response = client.get("/archive/2024-04/atom.xml", headers={"Accept": CHROME})
    assert response.headers["link"] == f'<{BASE}archive/2024-04/atom.xml>; rel="self"'
    page = parse_html(response.text)
    links = {link.text: link.get("href") for link in page.xpath(".//nav[@class='pages']/a")}
    assert links == {
        "← Newer reviews": "/archive/2024-05/atom.xml",
        "Older reviews →": "/archive/2024-03/atom.xml",
    }
    assert page.xpath('.//a[text()="the site\'s feed"]/@href') == ["/atom.xml"]


def test_the_stylesheet_stays_for_static_hosting(client: TestClient, config: Config) -> None:
    """The files on disk still carry the XSL instruction, and feed.xsl is still served."""
    assert b'<?xml-stylesheet type="text/xsl"' in (config.output_dir / "feed.xml").read_bytes()
    assert client.get("/feed.xsl").status_code == 200


def test_the_home_page_says_what_a_feed_reader_is(client: TestClient) -> None:
    """The feeds page explains feed readers and links to the e-mail subscription."""
    page = parse_html(client.get("/").text)
    assert page.findtext(".//section[@id='readers']/h2") == "What is a feed reader?"
    assert page.xpath(".//section[@id='readers']//a/@href") == ["/subscribe"]
