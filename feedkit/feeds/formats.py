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
from feedkit.model import Author

if TYPE_CHECKING:
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
    image_url: str | None = None

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
    generator = _base_generator(channel)
    generator.load_extension("dc")
    # feedgen takes the channel <link> from the last link() call: self first, site last.
    generator.link(href=channel.feed_urls["rss"], rel="self")
    generator.link(href=channel.site_url, rel="alternate")
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


def render_atom(channel: Channel, entries: Sequence[FeedEntry]) -> bytes:
    generator = _base_generator(channel)
    generator.id(channel.feed_urls["atom"])
    if channel.description:
        generator.subtitle(_text(channel.description))
    generator.link(href=channel.feed_urls["atom"], rel="self", type=CONTENT_TYPES["atom"])
    generator.link(href=channel.site_url, rel="alternate", type="text/html")
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
    item["date_published"] = entry.published.astimezone(channel.zone).isoformat()
    if entry.updated:
        item["date_modified"] = entry.last_modified.astimezone(channel.zone).isoformat()
    item["authors"] = [_json_author(author) for author in _authors(channel, entry)]
    names = tuple(dict.fromkeys(_text(name) for name in entry.categories))
    if names:
        item["tags"] = list(names)
    return item


def _base_generator(channel: Channel) -> FeedGenerator:
    # Imported here: feedgen brings lxml (40 ms), which a build with nothing to write never needs.
    from feedgen.feed import FeedGenerator  # noqa: PLC0415

    generator = FeedGenerator()
    generator.title(_text(channel.title))
    generator.language(channel.language)
    generator.generator(GENERATOR, version=__version__)
    if channel.copyright:
        generator.rights(_text(channel.copyright))
    return generator


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
