"""WebSub: feeds advertise their hubs, and a build tells each hub of every feed it rewrote, and of
no other, against a real HTTP server on loopback standing in for the hub."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from feedkit import pipeline
from feedkit.config import Config, load_config
from feedkit.errors import ConfigError
from feedkit.feeds import websub
from tests.conftest import SiteMaker, write_site
from tests.hub_server import HubServer

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BASE = "https://reviews.example.org/"
REVIEWS: dict[str, str | bytes] = {
    "vertigo.md": "---\ntitle: Vertigo\ndate: 2025-05-01\ncategories: [Cinema]\n---\nSpiral.\n",
    "rope.md": "---\ntitle: Rope\ndate: 2025-05-02\ncategories: [DVD]\n---\nOne take.\n",
}
SITE_FEEDS = [BASE + name for name in ("feed.xml", "atom.xml", "feed.json")]


@pytest.fixture
def hub() -> Iterator[HubServer]:
    server = HubServer().start()
    yield server
    server.stop()


@pytest.fixture
def site(make_site: SiteMaker, hub: HubServer) -> Config:
    return make_site(REVIEWS, f'[feeds]\nwebsub_hubs = ["{hub.url}"]\n')


@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses between attempts, recorded instead of waited: the one stand-in here, for time,
    so that a test of three attempts does not spend three seconds."""
    pauses: list[float] = []
    monkeypatch.setattr(websub, "pause", pauses.append)
    return pauses


def test_every_feed_advertises_the_hub_and_itself(site: Config, hub: HubServer) -> None:
    """RSS and Atom carry rel=hub and rel=self links; JSON Feed carries `hubs` and feed_url."""
    pipeline.build(site, now=NOW)
    for name in ("feed.xml", "atom.xml", "categories/dvd/atom.xml"):
        parsed = feedparser.parse((site.output_dir / name).read_bytes())
        links = {(link.rel, link.href) for link in parsed.feed.links}
        assert {("hub", hub.url), ("self", BASE + name)} <= links, name
    feed = json.loads((site.output_dir / "feed.json").read_text(encoding="utf-8"))
    assert (feed["hubs"], feed["feed_url"]) == (
        [{"type": "WebSub", "url": hub.url}],
        BASE + "feed.json",
    )


def test_a_build_pings_once_per_changed_feed_and_never_for_unchanged_ones(
    site: Config, hub: HubServer
) -> None:
    """The first build announces all nine feeds; a rebuild with nothing new, none; a changed
    review, only the feeds it is in."""
    pipeline.build(site, now=NOW)
    first = sorted(hub.record.published())
    cinema = [BASE + f"categories/cinema/{name}" for name in ("feed.xml", "atom.xml", "feed.json")]
    dvd = [BASE + f"categories/dvd/{name}" for name in ("feed.xml", "atom.xml", "feed.json")]
    assert first == sorted(SITE_FEEDS + cinema + dvd)
    assert {ping.content_type for ping in hub.record.pings} == {
        "application/x-www-form-urlencoded"
    }

    hub.record.pings.clear()
    pipeline.build(site, now=NOW)
    assert hub.record.published() == []

    path = site.content_dir / "rope.md"
    path.write_text(path.read_text(encoding="utf-8") + "Still one take.\n", encoding="utf-8")
    report = pipeline.build(site, now=NOW)
    assert sorted(hub.record.published()) == sorted(SITE_FEEDS + dvd)
    assert f"WebSub: told {hub.url} of 6 changed feeds" in report.notes


def test_a_failing_hub_is_asked_again_with_growing_pauses(
    hub: HubServer, no_pauses: list[float]
) -> None:
    """503, 503, then 204: the ping is sent three times, 1 s then 2 s apart, and goes through."""
    hub.record.statuses = [503, 503]
    report = websub.announce_to(hub.url, [BASE + "feed.xml"])
    assert hub.record.published() == [BASE + "feed.xml"] * 3
    assert no_pauses == [1.0, 2.0]
    assert (report.announced, report.missed) == (1, 0)


def test_a_hub_that_keeps_failing_never_fails_the_build(
    site: Config, hub: HubServer, no_pauses: list[float]
) -> None:
    """A hub answering 503 every time costs three tries of one feed; the build still succeeds
    and says in a note what was not announced."""
    hub.record.statuses = [503] * 10
    report = pipeline.build(site, now=NOW)
    assert report.written
    assert len(hub.record.pings) == websub.ATTEMPTS
    assert no_pauses == [1.0, 2.0]
    assert report.notes[-1] == (
        f"WebSub: {hub.url} was not told of 9 of 9 changed feeds (HTTP 503 Service Unavailable);"
        " their readers will see the change at their next poll"
    )


def test_a_refused_ping_is_not_repeated_but_the_others_go_on(
    hub: HubServer, no_pauses: list[float]
) -> None:
    """A 400 is the hub's answer to that request: no retry, and the next feed is still pinged."""
    hub.record.statuses = [400]
    report = websub.announce_to(hub.url, [BASE + "feed.xml", BASE + "atom.xml"])
    assert hub.record.published() == [BASE + "feed.xml", BASE + "atom.xml"]
    assert no_pauses == []
    assert (report.announced, report.missed, report.reason) == (1, 1, "HTTP 400 Bad Request")


def test_an_unreachable_hub_is_one_note(tmp_path: Path, no_pauses: list[float]) -> None:
    """Nothing listening on the hub's port: three tries, then a note naming the hub."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hub_url = f"http://127.0.0.1:{port}/hub"
    config = load_config(write_site(tmp_path, REVIEWS, f'[feeds]\nwebsub_hubs = ["{hub_url}"]\n'))
    report = pipeline.build(config, now=NOW)
    assert report.notes[-1].startswith(f"WebSub: {hub_url} was not told of 9 of 9 changed feeds")
    assert "cannot be reached" in report.notes[-1]
    assert no_pauses == [1.0, 2.0]


def test_no_hub_no_ping_and_no_hub_link(make_site: SiteMaker) -> None:
    """Without websub_hubs the feeds name no hub and the build says nothing of WebSub."""
    config = make_site(REVIEWS)
    report = pipeline.build(config, now=NOW)
    assert not any(note.startswith("WebSub") for note in report.notes)
    assert b'rel="hub"' not in (config.output_dir / "atom.xml").read_bytes()


def test_a_hub_that_is_no_http_url_is_a_config_error(tmp_path: Path) -> None:
    """websub_hubs takes absolute http(s) URLs; anything else is named with its key."""
    path = write_site(tmp_path, REVIEWS, '[feeds]\nwebsub_hubs = ["hub.example.org"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(
        "config.toml: [feeds] websub_hubs: 'hub.example.org' is not an absolute http(s) URL"
    )
