"""Which feeds a site has and what goes in each: the site's own with its monthly archives (RFC
5005), one per category and per tag, each as a channel and neutral entries the format writers
understand."""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from feedkit.config import Config
from feedkit.content.bodies import BodyRenderer
from feedkit.content.markup import absolute_url, clean_text, cut_words
from feedkit.content.metadata import slugify
from feedkit.feeds.formats import FEED_FILES, STYLESHEET_NAME, Channel, FeedEntry
from feedkit.model import Author, Review, rating_stars
from feedkit.urls import SiteUrls, page_url


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """One feed path (the site, a category or a tag) and the reviews that go in it."""

    folder: str  # "" for the site's own feeds, else e.g. "categories/blu-ray/"
    title: str
    reviews: tuple[Review, ...]
    # RFC 5005: the folders of the next older and the next newer archive, where there are any.
    prev_archive: str | None = None
    next_archive: str | None = None
    archive: bool = False  # an archive document: its reviews are all of one month, and stay

    @property
    def subscription(self) -> bool:
        """A feed readers subscribe to (announced to hubs, listed on the home page)."""
        return not self.archive


ARCHIVE_FOLDER = "archive"


def feed_plans(config: Config, public: Sequence[Review]) -> list[FeedPlan]:
    """The site's feed (and its archives), plus one per category and per tag where config asks
    for them."""
    limit = config.feeds.limit
    if config.feeds.archives:
        plans = site_feed_and_archives(config.site.title, public, limit, config.zone)
    else:
        plans = [FeedPlan("", config.site.title, tuple(public[:limit]))]
    groups: list[str] = []
    if config.feeds.category_feeds:
        groups.append("categories")
    if config.feeds.tag_feeds:
        groups.append("tags")
    for attribute in groups:
        for slug, (name, reviews) in sorted(_group(public, attribute).items()):
            title = f"{config.site.title}: {name}"
            plans.append(FeedPlan(f"{attribute}/{slug}/", title, tuple(reviews[:limit])))
    return plans


def site_feed_and_archives(
    title: str, public: Sequence[Review], limit: int, zone: tzinfo
) -> list[FeedPlan]:
    """The site's feed, and one archive per month before the month its oldest entry falls in.

    The feed holds the newest `limit` reviews and the rest of that oldest month, so each review
    is in exactly one document. A month is archived once it is over, so its archive is written
    once, and again only when a review in it changes or when the next newer archive appears (to
    link to it).
    """
    current, archived = _split_months(public, limit, zone)
    folders = [f"{ARCHIVE_FOLDER}/{month}/" for month, _ in archived]
    plans = [FeedPlan("", title, current, prev_archive=folders[0] if folders else None)]
    for index, (month, reviews) in enumerate(archived):
        older = folders[index + 1] if index + 1 < len(folders) else None
        newer = folders[index - 1] if index else None
        name = f"{title}: {_month_name(month)}"
        plans.append(FeedPlan(folders[index], name, reviews, older, newer, archive=True))
    return plans


Months = list[tuple[str, tuple[Review, ...]]]  # ("2025-03", that month's reviews), newest first


def _split_months(
    public: Sequence[Review], limit: int, zone: tzinfo
) -> tuple[tuple[Review, ...], Months]:
    """The reviews of the site's feed, and the months before them, newest first.

    A lone archive would link nowhere (the W3C validator warns, ArchiveIncomplete), so archiving
    starts when two months can be archived.
    """
    months = [
        (month, tuple(reviews))
        for month, reviews in itertools.groupby(public, key=lambda review: _month(review, zone))
    ]
    kept, count = 0, 0
    while kept < len(months) and count < limit:
        count += len(months[kept][1])
        kept += 1
    if len(months) - kept < 2:
        kept = len(months)
    current = tuple(review for _, reviews in months[:kept] for review in reviews)
    return current, months[kept:]


def _month(review: Review, zone: tzinfo) -> str:
    local = review.published.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


def _month_name(month: str) -> str:
    year, number = month.split("-")
    return date(int(year), int(number), 1).strftime("%B %Y")


def planned_paths(config: Config, plans: Iterable[FeedPlan]) -> set[str]:
    """Every feed file the plans make, relative to the output folder."""
    return {plan.folder + FEED_FILES[fmt] for plan in plans for fmt in config.feeds.formats}


def _group(reviews: Iterable[Review], attribute: str) -> dict[str, tuple[str, list[Review]]]:
    """Reviews by category (or tag) slug; 'Blu-ray' and 'blu-ray' are one group, named as first
    seen."""
    groups: dict[str, tuple[str, list[Review]]] = {}
    for review in reviews:
        for name in getattr(review, attribute):
            slug = slugify(name)
            if slug:
                groups.setdefault(slug, (name, []))[1].append(review)
    return groups


def channel_for(config: Config, plan: FeedPlan, first_build: datetime) -> Channel:
    urls = SiteUrls.of(config)
    site = config.site
    # Atom needs an author for every entry; a review that names none is credited to the site.
    author = Author(site.author or site.title, site.author_email or None)
    stylesheet = f"{urls.base_path}/{STYLESHEET_NAME}" if config.feeds.stylesheet else None

    def feed_urls(folder: str | None) -> dict[str, str] | None:
        if folder is None:
            return None
        return {fmt: urls.url(folder + name) for fmt, name in FEED_FILES.items()}

    return Channel(
        title=plan.title,
        description=site.description,
        site_url=config.base_url,
        feed_urls=feed_urls(plan.folder) or {},
        hubs=config.feeds.websub_hubs if plan.subscription else (),
        prev_archive=feed_urls(plan.prev_archive),
        next_archive=feed_urls(plan.next_archive),
        current=feed_urls("") if plan.archive else None,
        language=site.language,
        zone=config.zone,
        # Archives hold what the front matter says, not the text: they stay cheap to build.
        full_text=config.feeds.full_text and not plan.archive,
        default_author=author,
        copyright=site.copyright,
        stylesheet_url=stylesheet,
        empty_since=first_build,
    )


def review_entries(
    config: Config, plan: FeedPlan, ids: dict[str, str], bodies: BodyRenderer
) -> list[FeedEntry]:
    """Each review of a plan as a feed entry: its stable id, its rendered body, its cover.

    An archive's entries are made from the front matter alone (a summary written there, else
    the title): a site's first build would otherwise render every review it ever published.
    """
    if plan.archive:
        return [archive_entry(config, review, ids[review.source]) for review in plan.reviews]
    return [review_entry(config, review, ids[review.source], bodies) for review in plan.reviews]


def review_entry(config: Config, review: Review, entry_id: str, bodies: BodyRenderer) -> FeedEntry:
    entry = archive_entry(config, review, entry_id)
    body = bodies(review)
    # A review with no text at all is summed up by its title.
    summary = body.summary or clean_text(review.title).strip()
    content = _content_html(review, body.html, entry.image_url)
    return replace(entry, summary=summary, content_html=content)


def archive_entry(config: Config, review: Review, entry_id: str) -> FeedEntry:
    """A review's entry from its front matter alone: no body is read or rendered."""
    url = page_url(config, review)
    image = absolute_url(url, review.image) if review.image else None
    image_type, image_size = cover_facts(config, review, image)
    written = cut_words(review.summary, config.content.summary_words) if review.summary else ""
    return FeedEntry(
        id=entry_id,
        url=url,
        title=review.title,
        published=review.published,
        updated=review.updated,
        summary=written or clean_text(review.title).strip(),
        content_html="",
        authors=review.authors,
        categories=(*review.categories, *review.tags),
        image_url=image,
        image_type=image_type,
        image_size=image_size,
    )


IMAGE_TYPES = {
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


def cover_facts(
    config: Config, review: Review, image_url: str | None
) -> tuple[str | None, int | None]:
    """The cover's media type, from its name, and its length, where it is a file beside the review
    (a page bundle's cover.jpg): a feed reader may show a size before it fetches the picture."""
    if image_url is None or review.image is None:
        return None, None
    image_type = IMAGE_TYPES.get(PurePosixPath(urlsplit(image_url).path).suffix.lower())
    written = review.image
    if urlsplit(written).scheme or written.startswith("/"):
        return image_type, None
    folder = (config.content_dir / review.source).parent
    candidate = (folder / unquote(urlsplit(written).path)).resolve()
    if config.content_dir.resolve() not in candidate.parents or not candidate.is_file():
        return image_type, None
    return image_type, candidate.stat().st_size


def _content_html(review: Review, body_html: str, image_url: str | None) -> str:
    """The review's full HTML, with its cover and rating above the text."""
    parts: list[str] = []
    if image_url:
        alt = html.escape(clean_text(review.title).strip())
        parts.append(f'<p><img src="{html.escape(image_url)}" alt="{alt}"></p>')
    if review.rating is not None:
        parts.append(f"<p>Rating: {rating_stars(review.rating)} ({review.rating:g}/5)</p>")
    parts.append(body_html)
    return "\n".join(parts)
