"""RSS 2.0 and Atom 1.0 (with feedgen) and JSON Feed 1.1, rendered to bytes from neutral entries.

Each writer works around a known feedgen habit that the W3C validator or feed readers dislike;
the reason stands beside each workaround.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from feedkit import __version__
from feedkit.content.markup import clean_text
from feedkit.feeds.extensions import NAME, FeedLinks
from feedkit.model import Author

if TYPE_CHECKING:
    from feedgen.entry import FeedEntry as FeedGeneratorEntry
    from feedgen.feed import FeedGenerator

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "feedkit"
FEED_FILES = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
STYLESHEET_NAME = "feed.xsl"
CONTENT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, whatever it publishes: a review, a past digest."""

    id: str  # stable for the life of the item
    url: str  # absolute permalink
    title: str
    published: datetime
    summary: str  # plain text
    content_html: str = ""  # sanitized HTML, "" when there is none
    updated: datetime | None = None  # a significant change, when there was one
    authors: tuple[Author, ...] = ()
    categories: tuple[str, ...] = ()
    image_url: str | None = None  # the cover, absolute
    image_type: str | None = None  # its media type, where the file name says it
    image_size: int | None = None  # its length in bytes, where the file is known

    @property
    def last_modified(self) -> datetime:
        return max(self.published, self.updated) if self.updated else self.published


@dataclass(frozen=True, slots=True)
class Channel:
    """What a feed says about itself; one per feed path (the site, a category, a tag)."""

    title: str
    description: str
    site_url: str
    feed_urls: dict[str, str]  # format -> the feed's own absolute URL
    language: str
    zone: tzinfo
    full_text: bool = True
    default_author: Author | None = None
    copyright: str = ""
    stylesheet_url: str | None = None
    # The date of a feed with no entries: the site's first build, a date that stays put.
    empty_since: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    hubs: tuple[str, ...] = ()  # WebSub hubs through which readers may subscribe
    # RFC 5005, each as format -> URL: the next older archive, the next newer one, and (set for
    # an archive document only, which it marks as one) the subscription feed.
    prev_archive: dict[str, str] | None = None
    next_archive: dict[str, str] | None = None
    current: dict[str, str] | None = None

    def links(self, fmt: str) -> list[tuple[str, str]]:
        """(rel, URL) of the feed-level links beyond self and alternate, for one format."""
        links = [("hub", hub) for hub in self.hubs]
        history = (
            ("current", self.current),
            ("prev-archive", self.prev_archive),
            ("next-archive", self.next_archive),
        )
        links += [(rel, urls[fmt]) for rel, urls in history if urls]
        return links


def render_feed(fmt: str, channel: Channel, entries: Sequence[FeedEntry]) -> bytes:
    """Render one format; entries must already be newest first."""
    renderers = {"rss": render_rss, "atom": render_atom, "json": render_json_feed}
    return renderers[fmt](channel, entries)


def feed_updated(channel: Channel, entries: Sequence[FeedEntry]) -> datetime:
    """The newest entry's time, never the wall clock, so an unchanged site rebuilds identical
    files."""
    if not entries:
        return channel.empty_since
    return max(entry.last_modified for entry in entries)


def render_rss(channel: Channel, entries: Sequence[FeedEntry]) -> bytes:
    generator = _base_generator(channel, entries)
    generator.load_extension("dc")
    # feedgen takes the channel <link> from the last link() call: self first, site last.
    generator.link(href=channel.feed_urls["rss"], rel="self")
    generator.link(href=channel.site_url, rel="alternate")
    _add_links(generator, channel, "rss")
    generator.description(_text(channel.description) or _text(channel.title))
    generator.lastBuildDate(feed_updated(channel, entries))
    for entry in entries:
        _add_rss_item(generator, channel, entry)
    xml = generator.rss_str(pretty=True)
    return _with_stylesheet(_spell_markup_characters(xml), channel.stylesheet_url)


def _add_rss_item(generator: FeedGenerator, channel: Channel, entry: FeedEntry) -> None:
    item = generator.add_entry(order="append")
    item.title(_text(entry.title))
    item.link(href=entry.url)
    item.guid(entry.id, permalink=entry.id == entry.url)
    item.pubDate(entry.published.astimezone(UTC))  # RSS dates in UTC: no odd offsets
    # <author> needs an e-mail (and feedparser mangles long TLDs in it): dc:creator carries names.
    for author in _authors(channel, entry):
        item.dc.dc_creator(_text(author.name))
    for name in entry.categories:
        item.category(term=_text(name))
    item.description(html.escape(entry.summary, quote=False))
    if channel.full_text:
        item.content(entry.content_html)
    _add_cover(item, entry)


def render_atom(channel: Channel, entries: Sequence[FeedEntry]) -> bytes:
    generator = _base_generator(channel, entries)
    generator.id(channel.feed_urls["atom"])
    if channel.description:
        generator.subtitle(_text(channel.description))
    generator.link(href=channel.feed_urls["atom"], rel="self", type=CONTENT_TYPES["atom"])
    generator.link(href=channel.site_url, rel="alternate", type="text/html")
    _add_links(generator, channel, "atom")
    generator.updated(feed_updated(channel, entries).astimezone(channel.zone))
    if channel.default_author:
        generator.author(_atom_author(channel.default_author))
    for entry in entries:
        _add_atom_entry(generator, channel, entry)
    xml = generator.atom_str(pretty=True)
    return _with_stylesheet(_spell_markup_characters(xml), channel.stylesheet_url)


def _add_atom_entry(generator: FeedGenerator, channel: Channel, entry: FeedEntry) -> None:
    item = generator.add_entry(order="append")
    item.id(entry.id)
    item.title(_text(entry.title))
    # One alternate link only: feedgen drops `rel` from entry links, so any other would clash.
    item.link(href=entry.url)
    item.published(entry.published.astimezone(channel.zone))
    item.updated(entry.last_modified.astimezone(channel.zone))
    for author in _authors(channel, entry):
        item.author(_atom_author(author))
    for name in entry.categories:
        item.category(term=_text(name))
    item.summary(html.escape(entry.summary, quote=False), type="html")
    if channel.full_text and entry.content_html:  # a blank element is a warning (NotBlank)
        item.content(entry.content_html, type="html")
    _add_cover(item, entry)


def render_json_feed(channel: Channel, entries: Sequence[FeedEntry]) -> bytes:
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": _text(channel.title),
        "home_page_url": channel.site_url,
        "feed_url": channel.feed_urls["json"],
    }
    if channel.description:
        feed["description"] = _text(channel.description)
    feed["language"] = channel.language
    if channel.default_author:
        feed["authors"] = [_json_author(channel.default_author)]
    if channel.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in channel.hubs]
    if channel.prev_archive:  # JSON Feed pages through older items with next_url
        feed["next_url"] = channel.prev_archive["json"]
    feed["items"] = [_json_item(channel, entry) for entry in entries]
    text = json.dumps(feed, ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8")


def _json_item(channel: Channel, entry: FeedEntry) -> dict[str, object]:
    item: dict[str, object] = {"id": entry.id, "url": entry.url, "title": _text(entry.title)}
    if channel.full_text:
        item["content_html"] = entry.content_html
    else:
        item["content_text"] = entry.summary
    item["summary"] = entry.summary
    if entry.image_url:
        item["image"] = entry.image_url
        item["banner_image"] = entry.image_url
    item["date_published"] = entry.published.astimezone(channel.zone).isoformat()
    if entry.updated:
        item["date_modified"] = entry.last_modified.astimezone(channel.zone).isoformat()
    item["authors"] = [_json_author(author) for author in _authors(channel, entry)]
    names = tuple(dict.fromkeys(_text(name) for name in entry.categories))
    if names:
        item["tags"] = list(names)
    return item


def _base_generator(channel: Channel, entries: Sequence[FeedEntry]) -> FeedGenerator:
    # Imported here: feedgen brings lxml (40 ms), which a build with nothing to write never needs.
    from feedgen.feed import FeedGenerator  # noqa: PLC0415

    generator = FeedGenerator()
    generator.title(_text(channel.title))
    generator.language(channel.language)
    generator.generator(GENERATOR, version=__version__)
    if channel.copyright:
        generator.rights(_text(channel.copyright))
    if any(entry.image_url for entry in entries):  # the media namespace only where it is used
        generator.load_extension("media")
    return generator


def _add_links(generator: FeedGenerator, channel: Channel, fmt: str) -> None:
    """Hub and archive links, and the archive mark, where the channel has any."""
    links = channel.links(fmt)
    if not links and channel.current is None:
        return
    generator.register_extension(NAME, FeedLinks, None)
    extension: FeedLinks = getattr(generator, NAME)
    extension.links = links
    extension.archive = channel.current is not None


def _add_cover(item: FeedGeneratorEntry, entry: FeedEntry) -> None:
    """The cover as Media RSS, which readers show as the entry's thumbnail (RSS and Atom alike;
    an Atom enclosure link would lose its rel to a feedgen bug)."""
    if not entry.image_url:
        return
    content = {"url": entry.image_url, "medium": "image"}
    if entry.image_type:
        content["type"] = entry.image_type
    if entry.image_size:
        content["fileSize"] = str(entry.image_size)
    item.media.content(content, group=None)
    item.media.thumbnail({"url": entry.image_url}, group=None)


def _authors(channel: Channel, entry: FeedEntry) -> tuple[Author, ...]:
    if entry.authors:
        return entry.authors
    return (channel.default_author,) if channel.default_author else ()


def _atom_author(author: Author) -> dict[str, str]:
    fields = {"name": _text(author.name)}
    if author.email:
        fields["email"] = _text(author.email)
    if author.uri:
        fields["uri"] = _text(author.uri)
    return fields


def _json_author(author: Author) -> dict[str, str]:
    fields = {"name": _text(author.name)}
    if author.uri:
        fields["url"] = _text(author.uri)
    return fields


def _text(value: str) -> str:
    return clean_text(value).strip()


def _spell_markup_characters(xml: bytes) -> bytes:
    """Spell '&' and '<' as hexadecimal references: the same XML, but the W3C validator no longer
    mistakes a title such as 'The <Thing>' for markup (CharacterData, ContainsUndeclaredHTML)."""
    return xml.replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")


def _with_stylesheet(xml: bytes, stylesheet_url: str | None) -> bytes:
    """Add the xml-stylesheet instruction that makes a browser show the feed as a page."""
    if not stylesheet_url:
        return xml
    declaration, newline, rest = xml.partition(b"\n")
    instruction = (
        f'<?xml-stylesheet type="text/xsl" href="{html.escape(stylesheet_url)}"?>'.encode()
    )
    return declaration + newline + instruction + b"\n" + rest
