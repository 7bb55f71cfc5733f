"""The digest archive in public/digests/: an index of every issue, links from each issue's page to
its neighbours and the index, and a feed of past digests through the site's own feed writers.

Run whenever a digest is frozen. Each issue's page is the digest as rendered then; only its
navigation bar, written between two markers, changes when a newer issue appears. The bar is added
to the rendered page rather than to the digest template, so a site's own template gets it too.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from feedkit.config import Config
from feedkit.feeds.formats import (
    CONTENT_TYPES,
    FEED_FILES,
    STYLESHEET_NAME,
    Channel,
    FeedEntry,
    render_feed,
)
from feedkit.model import Author, Review, Site
from feedkit.output import write_if_changed
from feedkit.store.archives import ArchivedDigest, archived_digests
from feedkit.store.db import Store
from feedkit.urls import SiteUrls, page_url
from feedkit.words import plural

log = logging.getLogger("feedkit.digests")

FOLDER = "digests/"
LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
INDEX = "index.html"
NAV_START, NAV_END = "<!-- feedkit:issues -->", "<!-- /feedkit:issues -->"
STYLE_START, STYLE_END = "<!-- feedkit:issues-style -->", "<!-- /feedkit:issues-style -->"
# Colours of the digest's own frame, light and dark; each pair passes WCAG AA.
NAV_STYLE = """<style>
  .issues-nav { max-width: 600px; margin: 0 auto; padding: 14px 18px; text-align: center;
                font: 15px/22px Helvetica, Arial, sans-serif; color: #5b554c; }
  .issues-nav a { color: #b3261e; font-weight: bold; }
  @media (prefers-color-scheme: dark) {
    .issues-nav { color: #b9b1a5; }
    .issues-nav a { color: #ff8a80; }
  }
</style>"""


@dataclass(frozen=True, slots=True)
class IssueLink:
    """An issue as the index and the feed list it."""

    date: str
    subject: str
    url: str
    reviews: int


def publish_digest_archive(config: Config, store: Store, site: Site) -> list[Path]:
    """Bring the index, the issue pages' navigation and the digest feeds up to date; returns the
    files written. Hubs are told of changed feeds; a hub that fails is only logged."""
    pages = [(issue, path) for issue in archived_digests(store) if (path := _page(config, issue))]
    issues = [issue for issue, _ in pages]
    written = _link_neighbours(config, pages)
    written += _write_index(config, issues)
    feeds = _write_feeds(config, issues, site)
    _announce(config, feeds)
    return written + feeds


def _page(config: Config, issue: ArchivedDigest) -> Path | None:
    """The issue's page in public/digests/, if it was written there and still is."""
    prefix = config.base_url + FOLDER
    if not issue.archive_url.startswith(prefix):
        return None
    path = config.output_dir / FOLDER / issue.archive_url.removeprefix(prefix)
    return path if path.is_file() else None


def _link_neighbours(config: Config, pages: Sequence[tuple[ArchivedDigest, Path]]) -> list[Path]:
    written = []
    index_url = config.base_url + FOLDER
    urls = [issue.archive_url for issue, _ in pages]
    for number, (_, path) in enumerate(pages):
        older = urls[number - 1] if number else None
        newer = urls[number + 1] if number + 1 < len(urls) else None
        page = with_navigation(path.read_text(encoding="utf-8"), older, index_url, newer)
        if write_if_changed(path, page.encode("utf-8")):
            written.append(path)
    return written


def with_navigation(page: str, older: str | None, index_url: str, newer: str | None) -> str:
    """The page with its navigation bar (and the bar's style) put in or replaced."""
    parts = []
    if older:
        parts.append(f'<a href="{html.escape(older)}">← Previous issue</a>')
    parts.append(f'<a href="{html.escape(index_url)}">All issues</a>')
    if newer:
        parts.append(f'<a href="{html.escape(newer)}">Next issue →</a>')
    bar = '<nav class="issues-nav" aria-label="Issues">' + " · ".join(parts) + "</nav>"
    page = _replace_between(page, NAV_START, NAV_END, bar, _BODY_OPEN, after=True)
    return _replace_between(page, STYLE_START, STYLE_END, NAV_STYLE, _HEAD_CLOSE, after=False)


_BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)
_HEAD_CLOSE = re.compile(r"</head>", re.IGNORECASE)


def _replace_between(
    page: str, start: str, end: str, content: str, anchor: re.Pattern[str], *, after: bool
) -> str:
    block = f"{start}\n{content}\n{end}"
    if start in page and end in page:
        head, _, rest = page.partition(start)
        return head + block + rest.partition(end)[2]
    match = anchor.search(page)
    if match is None:  # a site's own template without <head> or <body>: leave it be
        return page
    at = match.end() if after else match.start()
    return page[:at] + "\n" + block + "\n" + page[at:]


def _issue_links(config: Config, issues: Sequence[ArchivedDigest]) -> list[IssueLink]:
    return [
        IssueLink(
            f"{issue.created_at.astimezone(config.zone):%-d %B %Y}",
            issue.subject,
            issue.archive_url,
            len(issue.sources),
        )
        for issue in reversed(issues)
    ]


def _write_index(config: Config, issues: Sequence[ArchivedDigest]) -> list[Path]:
    template = _templates().get_template("digests.html.j2")
    feeds = [(LABELS[fmt], CONTENT_TYPES[fmt], FEED_FILES[fmt]) for fmt in config.feeds.formats]
    page = template.render(
        site={
            "title": config.site.title,
            "url": config.base_url,
            "language": config.site.language,
        },
        issues=_issue_links(config, issues),
        feeds=feeds,
        subscribe_url=config.base_url + "subscribe",
    )
    target = config.output_dir / FOLDER / INDEX
    return [target] if write_if_changed(target, page.encode("utf-8")) else []


@functools.cache
def _templates() -> jinja2.Environment:
    folder = str(resources.files("feedkit.newsletter").joinpath("pages"))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _write_feeds(config: Config, issues: Sequence[ArchivedDigest], site: Site) -> list[Path]:
    """digests/feed.xml, atom.xml and feed.json: one entry per issue, newest first."""
    channel = digest_channel(config, issues)
    by_source = {review.source: review for review in site.reviews}
    entries = [_entry(config, issue, by_source) for issue in reversed(issues)]
    written = []
    for fmt in config.feeds.formats:
        target = config.output_dir / FOLDER / FEED_FILES[fmt]
        if write_if_changed(target, render_feed(fmt, channel, entries)):
            written.append(target)
    return written


def digest_channel(config: Config, issues: Sequence[ArchivedDigest]) -> Channel:
    urls = SiteUrls.of(config)
    site = config.site
    stylesheet = f"{urls.base_path}/{STYLESHEET_NAME}" if config.feeds.stylesheet else None
    channel = Channel(
        title=f"{site.title}: past digests",
        description=f"Every issue of the {site.title} e-mail digest, as it was sent.",
        site_url=config.base_url + FOLDER,
        feed_urls={fmt: urls.url(FOLDER + name) for fmt, name in FEED_FILES.items()},
        language=site.language,
        zone=config.zone,
        default_author=Author(site.author or site.title, site.author_email or None),
        copyright=site.copyright,
        stylesheet_url=stylesheet,
        hubs=config.feeds.websub_hubs,
    )
    # With no issue the feed is dated by the writers' fixed default; with one, by the first.
    return dataclasses.replace(channel, empty_since=issues[0].created_at) if issues else channel


def _entry(config: Config, issue: ArchivedDigest, reviews: dict[str, Review]) -> FeedEntry:
    """An issue as a feed entry: its subject, and the reviews it held, each linked."""
    held = [reviews[source] for source in issue.sources if source in reviews]
    names = ", ".join(review.title for review in held)
    summary = f"{plural(len(issue.sources), 'review')}" + (f": {names}" if names else "")
    items = "".join(
        f'<li><a href="{html.escape(page_url(config, review))}">{html.escape(review.title)}</a>'
        "</li>"
        for review in held
    )
    return FeedEntry(
        id=issue.archive_url,
        url=issue.archive_url,
        title=issue.subject,
        published=issue.created_at,
        summary=summary,
        content_html=f"<ul>{items}</ul>" if items else "",
    )


def _announce(config: Config, feeds: list[Path]) -> None:
    if not config.feeds.websub_hubs or not feeds:
        return
    from feedkit.feeds import websub  # noqa: PLC0415 - urllib only when there is a hub to call

    urls = [config.base_url + path.relative_to(config.output_dir).as_posix() for path in feeds]
    for note in websub.announce(config.feeds.websub_hubs, urls):
        log.info("digest: %s", note)
