"""Feeds read back with feedparser (a real reader) and the JSON Feed 1.1 spec, field by field."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feedkit import pipeline
from feedkit.config import Config
from tests.conftest import SiteMaker

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TRICKY_TITLE = 'Tom & Jerry: "The <Golden> Era" 🎬 DVD'

CORPUS: dict[str, str | bytes] = {
    "home-video/tom-and-jerry.md": f"""
        ---
        title: '{TRICKY_TITLE}'
        date: 2025-03-14T19:30:00+01:00
        author:
          name: Jane Doe
          email: jane@reviews.example
          uri: https://reviews.example.org/about/jane/
        summary: Cartoon violence, restored & remastered.
        categories: [DVD, Animation]
        tags: [cartoons]
        rating: 3.5
        image: /images/tom.jpg
        ---
        The *cat* and the mouse, again. See [the old disc](../old-disc/) and ![a still](still.jpg).
        """,
    "cinema/vertigo.md": """
        ---
        title: Vertigo in 70mm
        date: 2025-07-01 10:00
        author: Sam Critic
        summary: Hitchcock's spiral, bigger than ever.
        categories: [Cinema, blu-ray]
        ---
        A first paragraph.

        A second paragraph.
        """,
    "home-video/the-red-shoes.md": """
        +++
        title = "The Red Shoes 4K"
        date = 2025-05-02T09:00:00+05:45
        categories = ["Blu-ray"]
        +++
        Powell and Pressburger's ballet, in 4K.
        """,
    "drafts/unfinished.md": """
        ---
        title: Unfinished
        date: 2025-01-01
        draft: true
        ---
        TK
        """,
    "cinema/future.md": """
        ---
        title: Not Yet
        date: 2030-01-01
        ---
        Later.
        """,
}


def build(config: Config, now: datetime = NOW) -> pipeline.BuildReport:
    return pipeline.build(config, now=now)


def parse(config: Config, relative: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse((config.output_dir / relative).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def json_feed(config: Config, relative: str = "feed.json") -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (config.output_dir / relative).read_text(encoding="utf-8")
    )
    return data


def output_files(config: Config) -> dict[Path, bytes]:
    files = (path for path in config.output_dir.rglob("*") if path.is_file())
    return {path.relative_to(config.output_dir): path.read_bytes() for path in files}


@pytest.fixture
def site(make_site: SiteMaker) -> Config:
    config = make_site(CORPUS)
    build(config)
    return config


@pytest.mark.parametrize("relative", ["feed.xml", "atom.xml"])
def test_titles_order_and_links_survive_a_real_reader(site: Config, relative: str) -> None:
    """Published reviews only, newest first, with exact titles and absolute permalinks."""
    parsed = parse(site, relative)
    assert parsed.feed.title == "Test Reviews"
    assert [entry.title for entry in parsed.entries] == [
        "Vertigo in 70mm",
        "The Red Shoes 4K",
        TRICKY_TITLE,
    ]
    assert [entry.link for entry in parsed.entries] == [
        "https://reviews.example.org/reviews/2025/vertigo/",
        "https://reviews.example.org/reviews/2025/the-red-shoes/",
        "https://reviews.example.org/reviews/2025/tom-and-jerry/",
    ]


@pytest.mark.parametrize("relative", ["feed.xml", "atom.xml"])
def test_dates_in_several_zones_mean_the_same_instant(site: Config, relative: str) -> None:
    """+01:00, +05:45 and a zoneless date in the site's zone (BST in July) all read back in UTC."""
    parsed = parse(site, relative)
    published = [
        time.strftime("%Y-%m-%d %H:%M", entry.published_parsed) for entry in parsed.entries
    ]
    assert published == ["2025-07-01 09:00", "2025-05-02 03:15", "2025-03-14 18:30"]


def test_rss_dates_are_in_utc(site: Config) -> None:
    """RSS dates carry +0000, never an offset the validator finds odd (such as +0545)."""
    rss = (site.output_dir / "feed.xml").read_text(encoding="utf-8")
    assert "<pubDate>Fri, 02 May 2025 03:15:00 +0000</pubDate>" in rss
    assert "+0545" not in rss


def test_feed_updated_is_the_newest_entry_not_the_clock(site: Config) -> None:
    """lastBuildDate and Atom <updated> come from content, so rebuilds are identical."""
    rss = parse(site, "feed.xml")
    atom = parse(site, "atom.xml")
    assert time.strftime("%Y-%m-%d %H:%M", rss.feed.updated_parsed) == "2025-07-01 09:00"
    assert time.strftime("%Y-%m-%d %H:%M", atom.feed.updated_parsed) == "2025-07-01 09:00"


def test_rss_authors_use_dc_creator_with_and_without_email(site: Config) -> None:
    """Name-only and e-mail authors both reach RSS readers, by name, unmangled."""
    parsed = parse(site, "feed.xml")
    assert [entry.get("author") for entry in parsed.entries] == [
        "Sam Critic",
        "The Desk",
        "Jane Doe",
    ]
    rss = (site.output_dir / "feed.xml").read_text(encoding="utf-8")
    assert "<author>" not in rss


def test_atom_authors_keep_email_and_uri(site: Config) -> None:
    """Atom carries the author's e-mail and URI; a review with no author is credited to the
    site's."""
    entries = parse(site, "atom.xml").entries
    jane = entries[2].author_detail
    assert (jane.name, jane.email, jane.href) == (
        "Jane Doe",
        "jane@reviews.example",
        "https://reviews.example.org/about/jane/",
    )
    assert entries[1].author_detail.name == "The Desk"


@pytest.mark.parametrize("relative", ["feed.xml", "atom.xml"])
def test_categories_and_tags_are_entry_categories(site: Config, relative: str) -> None:
    """Both categories and tags reach the reader as the entry's tags."""
    entry = parse(site, relative).entries[2]
    assert [tag.term for tag in entry.tags] == ["DVD", "Animation", "cartoons"]


@pytest.mark.parametrize("relative", ["feed.xml", "atom.xml"])
def test_full_text_has_absolute_urls_cover_and_rating(site: Config, relative: str) -> None:
    """Relative links and images resolve against the permalink; the cover and rating lead the
    text."""
    content = parse(site, relative).entries[2].content[0].value
    assert 'src="https://reviews.example.org/images/tom.jpg"' in content
    assert 'alt="Tom &amp; Jerry: &quot;The &lt;Golden&gt; Era&quot; 🎬 DVD"' in content
    assert "Rating: ★★★½☆ (3.5/5)" in content
    assert 'href="https://reviews.example.org/reviews/2025/old-disc/"' in content
    assert 'src="https://reviews.example.org/reviews/2025/tom-and-jerry/still.jpg"' in content


@pytest.mark.parametrize("relative", ["feed.xml", "atom.xml"])
def test_summary_is_plain_text(site: Config, relative: str) -> None:
    """The summary is the standfirst, its '&' intact, or the first paragraph."""
    entries = parse(site, relative).entries
    assert entries[2].summary == "Cartoon violence, restored &amp; remastered."
    assert entries[1].summary == "Powell and Pressburger's ballet, in 4K."


def test_self_links_point_at_each_feed(site: Config) -> None:
    """Each format links to its own absolute URL with rel=self; the RSS channel link is the
    site."""
    rss = parse(site, "feed.xml").feed
    atom = parse(site, "atom.xml").feed
    assert rss.link == "https://reviews.example.org/"
    assert {link.rel: link.href for link in rss.links}[
        "self"
    ] == "https://reviews.example.org/feed.xml"
    assert {link.rel: link.href for link in atom.links}[
        "self"
    ] == "https://reviews.example.org/atom.xml"


def test_entry_ids_are_tag_uris(site: Config) -> None:
    """Ids are RFC 4151 tag URIs from host, first publication date (site zone) and permalink."""
    rss_ids = [entry.id for entry in parse(site, "feed.xml").entries]
    atom_ids = [entry.id for entry in parse(site, "atom.xml").entries]
    assert rss_ids == atom_ids
    assert rss_ids[2] == "tag:reviews.example.org,2025-03-14:/reviews/2025/tom-and-jerry/"


def test_ids_survive_title_and_slug_edits(make_site: SiteMaker) -> None:
    """Once published, an entry keeps its id when its title or slug changes; its link follows the
    slug."""
    config = make_site(CORPUS)
    build(config)
    before = parse(config, "atom.xml").entries[0].id
    path = config.content_dir / "cinema/vertigo.md"
    text = path.read_text(encoding="utf-8").replace(
        "title: Vertigo in 70mm", "title: Vertigo\nslug: vertigo-70"
    )
    path.write_text(text, encoding="utf-8")
    build(config)
    entry = parse(config, "atom.xml").entries[0]
    assert entry.title == "Vertigo"
    assert entry.link == "https://reviews.example.org/reviews/2025/vertigo-70/"
    assert entry.id == before


def test_front_matter_id_overrides(make_site: SiteMaker) -> None:
    """An `id` in the front matter is used as is, in every format."""
    config = make_site(
        {
            "a.md": "---\ntitle: A\ndate: 2025-01-01\nid: "
            "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427\n---\nx\n"
        }
    )
    build(config)
    assert (
        parse(config, "atom.xml").entries[0].id == "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    )
    assert (
        parse(config, "feed.xml").entries[0].id == "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    )
    item = json_feed(config)["items"][0]  # type: ignore[index]
    assert item["id"] == "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def test_json_feed_follows_version_1_1(site: Config) -> None:
    """Required fields, string ids, HTML content, RFC 3339 dates, `authors`, absolute URLs."""
    feed = json_feed(site)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Test Reviews"
    assert feed["feed_url"] == "https://reviews.example.org/feed.json"
    assert feed["home_page_url"] == "https://reviews.example.org/"
    items = feed["items"]
    assert isinstance(items, list)
    assert [item["title"] for item in items] == [
        "Vertigo in 70mm",
        "The Red Shoes 4K",
        TRICKY_TITLE,
    ]
    tom = items[2]
    assert tom["id"] == "tag:reviews.example.org,2025-03-14:/reviews/2025/tom-and-jerry/"
    assert tom["url"] == "https://reviews.example.org/reviews/2025/tom-and-jerry/"
    assert tom["image"] == "https://reviews.example.org/images/tom.jpg"
    assert tom["date_published"] == "2025-03-14T18:30:00+00:00"
    assert tom["authors"] == [
        {"name": "Jane Doe", "url": "https://reviews.example.org/about/jane/"}
    ]
    assert tom["tags"] == ["DVD", "Animation", "cartoons"]
    assert tom["summary"] == "Cartoon violence, restored & remastered."
    assert "<em>cat</em>" in tom["content_html"]
    assert "author" not in tom
    for item in items:
        assert datetime.fromisoformat(item["date_published"]).tzinfo is not None


def test_unchanged_corpus_rebuilds_byte_identical_files(make_site: SiteMaker) -> None:
    """A rebuild from scratch, days later, writes the very same bytes."""
    config = make_site(CORPUS)
    build(config)
    first = {
        path.relative_to(config.output_dir): path.read_bytes()
        for path in config.output_dir.rglob("*")
        if path.is_file()
    }
    shutil.rmtree(config.output_dir)
    config.database_path.unlink()
    build(config, now=datetime(2026, 12, 1, tzinfo=UTC))
    second = {
        path.relative_to(config.output_dir): path.read_bytes()
        for path in config.output_dir.rglob("*")
        if path.is_file()
    }
    assert first == second
    assert len(first) > 10


def test_unchanged_rebuild_touches_no_file(site: Config) -> None:
    """With nothing changed, no file is rewritten (mtimes stay) and the report says so."""
    files = [path for path in site.output_dir.rglob("*") if path.is_file()]
    stamps = {path: path.stat().st_mtime_ns for path in files}
    report = build(site)
    assert report.written == ()
    assert report.unchanged == len(files)  # every feed, and the stylesheet
    assert {path: path.stat().st_mtime_ns for path in files} == stamps


def test_one_changed_review_rewrites_only_its_feeds(site: Config) -> None:
    """Editing one review rewrites the feeds it is in, and no others."""
    path = site.content_dir / "home-video/the-red-shoes.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    report = build(site)
    written = sorted(str(path.relative_to(site.output_dir)) for path in report.written)
    assert written == [
        "atom.xml",
        "categories/blu-ray/atom.xml",
        "categories/blu-ray/feed.json",
        "categories/blu-ray/feed.xml",
        "feed.json",
        "feed.xml",
    ]


def test_scheduled_review_appears_once_its_time_comes(site: Config) -> None:
    """A future-dated review is left out until a build after its date, which picks it up."""
    assert "Not Yet" not in [entry.title for entry in parse(site, "feed.xml").entries]
    build(site, now=datetime(2030, 1, 2, tzinfo=UTC))
    assert parse(site, "feed.xml").entries[0].title == "Not Yet"


def test_category_feeds_group_names_case_insensitively(site: Config) -> None:
    """'Blu-ray' and 'blu-ray' share one feed at a stable path named after the first seen."""
    parsed = parse(site, "categories/blu-ray/feed.xml")
    assert parsed.feed.title == "Test Reviews: blu-ray"
    assert [entry.title for entry in parsed.entries] == ["Vertigo in 70mm", "The Red Shoes 4K"]
    assert {link.rel: link.href for link in parsed.feed.links}["self"] == (
        "https://reviews.example.org/categories/blu-ray/feed.xml"
    )
    assert sorted(path.name for path in (site.output_dir / "categories").iterdir()) == [
        "animation",
        "blu-ray",
        "cinema",
        "dvd",
    ]


def test_tag_feeds_when_asked(make_site: SiteMaker) -> None:
    """tag_feeds = true adds tags/<slug>/ feeds; category_feeds = false drops categories/."""
    config = make_site(CORPUS, "[feeds]\ntag_feeds = true\ncategory_feeds = false\n")
    build(config)
    assert [entry.title for entry in parse(config, "tags/cartoons/atom.xml").entries] == [
        TRICKY_TITLE
    ]
    assert not (config.output_dir / "categories").exists()


def test_limit_and_summary_only(make_site: SiteMaker) -> None:
    """`limit` keeps the newest N; full_text = false leaves out the body everywhere."""
    config = make_site(CORPUS, "[feeds]\nlimit = 2\nfull_text = false\narchives = false\n")
    build(config)
    rss = parse(config, "feed.xml")
    atom = parse(config, "atom.xml")
    assert [entry.title for entry in rss.entries] == ["Vertigo in 70mm", "The Red Shoes 4K"]
    assert "content" not in rss.entries[0]
    assert "content" not in atom.entries[0]
    item = json_feed(config)["items"][0]  # type: ignore[index]
    assert item["content_text"] == "Hitchcock's spiral, bigger than ever."
    assert "content_html" not in item


def test_formats_can_be_chosen(make_site: SiteMaker) -> None:
    """Only the formats named in config are written."""
    config = make_site(
        CORPUS, '[feeds]\nformats = ["atom"]\ncategory_feeds = false\nstylesheet = false\n'
    )
    build(config)
    assert sorted(path.name for path in config.output_dir.iterdir()) == ["atom.xml"]


def test_stylesheet_instruction_and_file(site: Config) -> None:
    """RSS and Atom name /feed.xsl right after the XML declaration, and feed.xsl is written."""
    for relative in ("feed.xml", "atom.xml", "categories/dvd/feed.xml"):
        second_line = (site.output_dir / relative).read_text(encoding="utf-8").splitlines()[1]
        assert second_line == '<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>'
    assert (
        (site.output_dir / "feed.xsl")
        .read_bytes()
        .startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    )


def test_stylesheet_renders_a_readable_page(site: Config) -> None:
    """The XSL turns both RSS and Atom into an HTML page with the subscribe hint and every
    title."""
    transform = etree.XSLT(etree.parse(str(site.output_dir / "feed.xsl")))
    for relative in ("feed.xml", "atom.xml"):
        page = str(transform(etree.parse(str(site.output_dir / relative))))
        assert "This is a web feed." in page
        assert f"https://reviews.example.org/{relative}" in page
        assert "Vertigo in 70mm" in page
        assert "Tom &amp; Jerry" in page


def test_no_temporary_files_are_left_behind(site: Config) -> None:
    """Atomic writes leave only the finished files."""
    leftovers = [path for path in site.output_dir.rglob("*") if path.name.startswith(".")]
    assert leftovers == []


def test_the_format_writers_publish_entries_that_are_not_reviews() -> None:
    """RSS, Atom and JSON Feed are written from neutral entries: a feed of past digests (no
    rating, no cover, no review at all) reads back whole in feedparser and as JSON Feed 1.1."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from feedkit.feeds.formats import Channel, FeedEntry, render_feed  # noqa: PLC0415
    from feedkit.model import Author  # noqa: PLC0415

    channel = Channel(
        title="Reel Notes: past digests",
        description="Every digest, as sent.",
        site_url="https://reviews.example.org/",
        feed_urls={
            fmt: f"https://reviews.example.org/digests/{name}"
            for fmt, name in (("rss", "feed.xml"), ("atom", "atom.xml"), ("json", "feed.json"))
        },
        language="en",
        zone=ZoneInfo("Europe/London"),
        default_author=Author("Reel Notes"),
    )
    issue = FeedEntry(
        id="https://reviews.example.org/digests/2026-11-27.html",
        url="https://reviews.example.org/digests/2026-11-27.html",
        title="Reel Notes: 3 new reviews, including Vertigo Blu-ray",
        published=datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        summary="Vertigo Blu-ray, Ran 4K UHD and Brief Encounter DVD.",
        content_html="<p>Three reviews this week.</p>",
    )
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(render_feed(fmt, channel, [issue]))
        assert not parsed.bozo
        (entry,) = parsed.entries
        assert (entry.title, entry.link) == (issue.title, issue.url)
        assert entry.summary == issue.summary
    feed = json.loads(render_feed("json", channel, [issue]))
    (item,) = feed["items"]
    assert (item["id"], item["title"], item["content_html"]) == (
        issue.id,
        issue.title,
        issue.content_html,
    )
    assert item["authors"] == [{"name": "Reel Notes"}]


# -- covers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("relative", ["feed.xml", "atom.xml"])
def test_cover_is_media_rss_content_and_thumbnail(site: Config, relative: str) -> None:
    """The cover reaches a reader as Media RSS content (absolute URL, type) and thumbnail."""
    entry = parse(site, relative).entries[2]
    cover = "https://reviews.example.org/images/tom.jpg"
    assert entry.media_content == [{"url": cover, "type": "image/jpeg", "medium": "image"}]
    assert entry.media_thumbnail == [{"url": cover}]
    assert "media_content" not in parse(site, relative).entries[0]  # Vertigo has no cover


def test_cover_in_json_feed_is_image_and_banner(site: Config) -> None:
    """JSON Feed items carry the cover as `image` and `banner_image`, absolute."""
    items: list[dict[str, object]] = json_feed(site)["items"]  # type: ignore[assignment]
    cover = "https://reviews.example.org/images/tom.jpg"
    assert (items[2]["image"], items[2]["banner_image"]) == (cover, cover)
    assert "image" not in items[0]


def test_a_cover_beside_its_review_has_its_size(make_site: SiteMaker) -> None:
    """A page bundle's cover.webp is announced with its type and its length in bytes."""
    config = make_site(
        {
            "films/solaris/index.md": "---\ntitle: Solaris\ndate: 2025-02-01\nimage: cover.webp\n"
            "---\nThe ocean thinks.\n",
            "films/solaris/cover.webp": b"RIFF" + bytes(2044),
        }
    )
    build(config)
    (entry,) = parse(config, "feed.xml").entries
    assert entry.media_content == [
        {
            "url": "https://reviews.example.org/reviews/2025/solaris/cover.webp",
            "filesize": "2048",
            "type": "image/webp",
            "medium": "image",
        }
    ]
