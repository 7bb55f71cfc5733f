"""Complete archives (RFC 5005): from the site's feed, prev-archive links (JSON Feed: next_url)
lead through monthly archive documents that hold every published review exactly once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from feedkit import pipeline
from feedkit.config import Config
from feedkit.feeds.plans import FeedPlan, site_feed_and_archives
from feedkit.model import Review
from feedkit.store.db import Store
from tests.conftest import SiteMaker

NOW = datetime(2024, 7, 20, 12, 0, tzinfo=UTC)
BASE = "https://reviews.example.org/"
HISTORY_NS = "http://purl.org/syndication/history/1.0"


def month_of_reviews(month: int, count: int, first_day: int = 2) -> dict[str, str]:
    """`count` reviews published on successive days of a 2024 month."""
    return {
        f"2024-{month:02d}/r{month}-{day}.md": f"---\ntitle: Review {month}-{day}\n"
        f"date: 2024-{month:02d}-{day:02d} 10:00\n---\nBody of {month}-{day}.\n"
        for day in range(first_day, first_day + count)
    }


SIX_MONTHS: dict[str, str | bytes] = {
    key: text for month in range(1, 7) for key, text in month_of_reviews(month, 3).items()
}


@pytest.fixture
def site(make_site: SiteMaker) -> Config:
    config = make_site(SIX_MONTHS, "[feeds]\nlimit = 3\n")
    pipeline.build(config, now=NOW)
    return config


def local_path(config: Config, url: str) -> Path:
    assert url.startswith(BASE), url
    return config.output_dir / url.removeprefix(BASE)


def crawl_xml(config: Config, name: str) -> list[feedparser.FeedParserDict]:
    """Every document met by following prev-archive from the subscription feed, in order."""
    documents = []
    url: str | None = BASE + name
    while url:
        parsed = feedparser.parse(local_path(config, url).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        documents.append(parsed)
        links = {link.rel: link.href for link in parsed.feed.get("links", [])}
        url = links.get("prev-archive")
    return documents


def crawl_json(config: Config) -> list[dict[str, object]]:
    documents = []
    url: object = BASE + "feed.json"
    while isinstance(url, str):
        document = json.loads(local_path(config, url).read_text(encoding="utf-8"))
        documents.append(document)
        url = document.get("next_url")
    return documents


def published_ids(config: Config) -> set[str]:
    parsed = feedparser.parse((config.output_dir / "atom.xml").read_bytes())
    return {entry.id for entry in parsed.entries}


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_a_crawler_recovers_every_review_exactly_once(site: Config, name: str) -> None:
    """Following prev-archive from the feed meets 18 entries, each once, newest first."""
    documents = crawl_xml(site, name)
    titles = [entry.title for document in documents for entry in document.entries]
    assert Counter(titles) == Counter(f"Review {m}-{d}" for m in range(1, 7) for d in range(2, 5))
    assert titles == [f"Review {m}-{d}" for m in range(6, 0, -1) for d in range(4, 1, -1)]
    assert len(documents) == 6  # the feed (June) and one archive per earlier month


def test_json_feed_pages_through_the_same_documents(site: Config) -> None:
    """next_url leads from feed.json through the archives; ids are those of the XML feeds."""
    pages: list[dict[str, list[dict[str, str]]]] = crawl_json(site)  # type: ignore[assignment]
    items = [item for page in pages for item in page["items"]]
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == 18
    atom_ids = {entry.id for document in crawl_xml(site, "atom.xml") for entry in document.entries}
    assert set(ids) == atom_ids


def test_archives_are_marked_and_link_back_to_the_feed(site: Config) -> None:
    """Each archive has fh:archive, rel=current to the feed, and prev/next links between them;
    the newest archive (May) has no next-archive, the oldest (January) no prev-archive."""
    april = (site.output_dir / "archive/2024-04/atom.xml").read_text(encoding="utf-8")
    assert f'xmlns:fh="{HISTORY_NS}"' in april
    assert "<fh:archive/>" in april
    links = {link.rel: link.href for link in feedparser.parse(april).feed.links}
    assert links == {
        "self": BASE + "archive/2024-04/atom.xml",
        "alternate": BASE,
        "current": BASE + "atom.xml",
        "prev-archive": BASE + "archive/2024-03/atom.xml",
        "next-archive": BASE + "archive/2024-05/atom.xml",
    }
    rels = {
        month: {link.rel for link in crawl_links(site, f"archive/2024-{month}/atom.xml")}
        for month in ("01", "05")
    }
    assert rels == {
        "01": {"self", "alternate", "current", "next-archive"},
        "05": {"self", "alternate", "current", "prev-archive"},
    }


def crawl_links(config: Config, relative: str) -> list[feedparser.FeedParserDict]:
    links: list[feedparser.FeedParserDict] = feedparser.parse(
        (config.output_dir / relative).read_bytes()
    ).feed.links
    return links


def test_the_feed_itself_is_not_an_archive(site: Config) -> None:
    """The subscription feed links to the newest archive and carries no fh:archive mark."""
    rss = (site.output_dir / "feed.xml").read_text(encoding="utf-8")
    assert "fh:archive" not in rss
    links = {link.rel: link.href for link in feedparser.parse(rss).feed.links}
    assert links["prev-archive"] == BASE + "archive/2024-05/feed.xml"


def test_a_new_review_leaves_every_archive_alone(site: Config) -> None:
    """A review published this month rewrites the feeds, and no archive."""
    site.content_dir.joinpath("2024-07").mkdir()
    site.content_dir.joinpath("2024-07/new.md").write_text(
        "---\ntitle: New\ndate: 2024-07-19\n---\nNew.\n", encoding="utf-8"
    )
    report = pipeline.build(site, now=NOW)
    written = {str(path.relative_to(site.output_dir)) for path in report.written}
    assert not any(path.startswith("archive/") for path in written)
    assert "feed.xml" in written


def test_a_month_that_ends_is_archived_and_only_its_neighbour_relinked(site: Config) -> None:
    """When June leaves the feed, June's archive is written and May's gains its next-archive;
    the other months are not touched."""
    for key, text in month_of_reviews(7, 3).items():
        path = site.content_dir / key
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    report = pipeline.build(site, now=NOW)
    archives = {
        str(path.relative_to(site.output_dir)).split("/")[1]
        for path in report.written
        if str(path.relative_to(site.output_dir)).startswith("archive/")
    }
    assert archives == {"2024-06", "2024-05"}
    titles = [e.title for d in crawl_xml(site, "atom.xml") for e in d.entries]
    assert len(titles) == len(set(titles)) == 21


def test_an_edited_review_rewrites_only_its_own_archive(site: Config) -> None:
    """Retitling a March review rewrites March's archive documents and nothing else."""
    path = site.content_dir / "2024-03/r3-3.md"
    text = path.read_text(encoding="utf-8").replace(
        "title: Review 3-3", "title: Review 3-3, fixed"
    )
    path.write_text(text, encoding="utf-8")
    report = pipeline.build(site, now=NOW)
    written = sorted(str(path.relative_to(site.output_dir)) for path in report.written)
    assert written == [
        "archive/2024-03/atom.xml",
        "archive/2024-03/feed.json",
        "archive/2024-03/feed.xml",
    ]


def test_archives_are_made_from_front_matter_and_render_no_body(site: Config) -> None:
    """An archive entry is its title, date, link and written summary: a body edit rewrites no
    archive, and a first build renders only the bodies the site's own feed shows."""
    path = site.content_dir / "2024-03/r3-3.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nA late correction.\n", encoding="utf-8")
    report = pipeline.build(site, now=NOW)
    assert not any("archive/" in str(written) for written in report.written)
    with Store(site.database_path) as store:
        rendered = {row[0] for row in store.query_all("SELECT source FROM rendered_bodies")}
    assert not any(source.startswith("2024-03/") for source in rendered)


def test_archives_can_be_turned_off(make_site: SiteMaker) -> None:
    """With archives = false the feed holds the newest `limit` reviews and links nowhere."""
    config = make_site(SIX_MONTHS, "[feeds]\nlimit = 3\narchives = false\n")
    pipeline.build(config, now=NOW)
    assert not (config.output_dir / "archive").exists()
    (document,) = crawl_xml(config, "atom.xml")
    assert len(document.entries) == 3


def test_the_home_page_index_lists_no_archive(site: Config) -> None:
    """The feed index the home page reads holds the site's and category feeds, no archive."""
    assert [folder for folder, _ in pipeline.feed_index(site)] == [""]


# A 10,000-review site, planned without files: the plans are what the writer renders, one to one.


def synthetic_reviews(count: int) -> list[Review]:
    """`count` reviews, newest first, three a day back from NOW, over about nine years."""
    return [
        Review(
            source=f"r{number}.md",
            title=f"R{number}",
            slug=f"r{number}",
            path=f"/r{number}/",
            published=NOW - timedelta(hours=8 * number + 1),
        )
        for number in range(count)
    ]


def test_the_chain_of_a_10000_review_site_holds_each_review_once() -> None:
    """From the feed's plan, prev-archive folders lead through every month; each review of
    10,000 is in exactly one document, and each archive's next-archive is its newer neighbour."""
    reviews = synthetic_reviews(10_000)
    plans = site_feed_and_archives("Big", reviews, 50, UTC)
    by_folder: dict[str, FeedPlan] = {plan.folder: plan for plan in plans}
    seen: list[str] = []
    folder: str | None = ""
    newer: str | None = None
    while folder is not None:
        plan = by_folder[folder]
        assert plan.archive == (folder != "")
        assert plan.next_archive == (newer if folder else None)
        seen += [review.source for review in plan.reviews]
        newer, folder = (folder or None), plan.prev_archive
    assert len(seen) == 10_000
    assert set(seen) == {review.source for review in reviews}
    assert len(by_folder) == len(plans)  # every plan was reached
    assert 50 <= len(plans[0].reviews) < 50 + 3 * 31  # the feed ends where its month does
