"""Which feeds a site has and what goes in each: the site's own, one per category and per tag,
each as a channel and neutral entries the format writers understand."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from feedkit.config import Config
from feedkit.content.bodies import BodyRenderer
from feedkit.content.markup import absolute_url, clean_text
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


def feed_plans(config: Config, public: Sequence[Review]) -> list[FeedPlan]:
    """The site's feed, plus one per category and per tag where config asks for them."""
    limit = config.feeds.limit
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
    return Channel(
        title=plan.title,
        description=site.description,
        site_url=config.base_url,
        feed_urls={fmt: urls.url(plan.folder + name) for fmt, name in FEED_FILES.items()},
        language=site.language,
        zone=config.zone,
        full_text=config.feeds.full_text,
        default_author=author,
        copyright=site.copyright,
        stylesheet_url=stylesheet,
        empty_since=first_build,
    )


def review_entries(
    config: Config, plan: FeedPlan, ids: dict[str, str], bodies: BodyRenderer
) -> list[FeedEntry]:
    """Each review of a plan as a feed entry: its stable id, its rendered body, its cover."""
    return [review_entry(config, review, ids[review.source], bodies) for review in plan.reviews]


def review_entry(config: Config, review: Review, entry_id: str, bodies: BodyRenderer) -> FeedEntry:
    url = page_url(config, review)
    image = absolute_url(url, review.image) if review.image else None
    body = bodies(review)
    return FeedEntry(
        id=entry_id,
        url=url,
        title=review.title,
        published=review.published,
        updated=review.updated,
        # A review with no text at all is summed up by its title.
        summary=body.summary or clean_text(review.title).strip(),
        content_html=_content_html(review, body.html, image),
        authors=review.authors,
        categories=(*review.categories, *review.tags),
        image_url=image,
    )


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
