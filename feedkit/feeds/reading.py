"""Reading back a feed feedkit wrote (RSS, Atom or JSON Feed) into what a page shows of it: its
title, its entries and the archive links, so that a browser can be shown a page, not XML.

Only feedkit's own files are read here, so only the elements its writers use are looked for.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
FORMAT_OF_FILE = {"feed.xml": "rss", "atom.xml": "atom", "feed.json": "json"}


@dataclass(frozen=True, slots=True)
class EntryView:
    title: str
    url: str
    published: datetime | None
    summary: str  # plain text
    image_url: str | None


@dataclass(frozen=True, slots=True)
class FeedView:
    """A feed as a page shows it; `older_url`/`newer_url` are its archive neighbours."""

    title: str
    description: str
    site_url: str
    entries: tuple[EntryView, ...]
    older_url: str | None = None
    newer_url: str | None = None
    current_url: str | None = None  # set for an archive document: the feed it belongs to


def read_feed(name: str, data: bytes) -> FeedView:
    """The feed in `data`, read by the format its file name (feed.xml, atom.xml…) says."""
    fmt = FORMAT_OF_FILE[name]
    if fmt == "json":
        return _read_json(json.loads(data))
    root = ET.fromstring(data)  # noqa: S314 - feedkit's own feed files, written by its build
    return _read_rss(root) if fmt == "rss" else _read_atom(root)


def _read_rss(root: ET.Element) -> FeedView:
    channel = root.find("channel")
    if channel is None:
        raise ValueError("an RSS feed without a channel")
    links = _links(channel.findall(f"{ATOM}link"))
    entries = tuple(
        EntryView(
            title=_text(item, "title"),
            url=_text(item, "link"),
            published=_rss_date(_text(item, "pubDate")),
            summary=html.unescape(_text(item, "description")),
            image_url=_image(item),
        )
        for item in channel.findall("item")
    )
    description = _text(channel, "description")
    title = _text(channel, "title")
    return FeedView(
        title,
        "" if description == title else description,
        _text(channel, "link"),
        entries,
        **links,
    )


def _read_atom(root: ET.Element) -> FeedView:
    links = root.findall(f"{ATOM}link")
    entries = tuple(
        EntryView(
            title=_text(entry, f"{ATOM}title"),
            url=_alternate(entry.findall(f"{ATOM}link")),
            published=_iso_date(_text(entry, f"{ATOM}published")),
            summary=html.unescape(_text(entry, f"{ATOM}summary")),
            image_url=_image(entry),
        )
        for entry in root.findall(f"{ATOM}entry")
    )
    return FeedView(
        _text(root, f"{ATOM}title"),
        _text(root, f"{ATOM}subtitle"),
        _alternate(links),
        entries,
        **_links(links),
    )


def _read_json(feed: dict[str, Any]) -> FeedView:
    entries = tuple(
        EntryView(
            title=str(item.get("title", "")),
            url=str(item.get("url", "")),
            published=_iso_date(str(item.get("date_published", ""))),
            summary=str(item.get("summary", "")),
            image_url=item.get("image"),
        )
        for item in feed.get("items", [])
    )
    return FeedView(
        str(feed.get("title", "")),
        str(feed.get("description", "")),
        str(feed.get("home_page_url", "")),
        entries,
        older_url=feed.get("next_url"),
    )


def _links(elements: list[ET.Element]) -> dict[str, str | None]:
    by_rel = {element.get("rel"): element.get("href") for element in elements}
    return {
        "older_url": by_rel.get("prev-archive"),
        "newer_url": by_rel.get("next-archive"),
        "current_url": by_rel.get("current"),
    }


def _alternate(elements: list[ET.Element]) -> str:
    for element in elements:
        if element.get("rel", "alternate") == "alternate":
            return element.get("href", "")
    return ""


def _image(element: ET.Element) -> str | None:
    content = element.find(f"{MEDIA}content")
    return None if content is None else content.get("url")


def _text(element: ET.Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _rss_date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None


def _iso_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
