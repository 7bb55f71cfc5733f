"""The heavy half of a build: the site read through the parse cache, and its feeds written, with
the state they leave (stable ids, fingerprints, rendered bodies, the feed index, visibility).

Loaded only by a build that has work to do: one that changes nothing never imports it.
"""

from __future__ import annotations

from datetime import datetime

from feedkit.config import Config
from feedkit.content.bodies import BodyRenderer
from feedkit.content.loader import load_site
from feedkit.feeds.plans import FeedPlan, feed_plans
from feedkit.feeds.writer import FeedsWritten, FeedWork, write_feeds
from feedkit.fingerprint import cache_fingerprint
from feedkit.model import FileStamp, LoadResult, Site
from feedkit.store import build as build_state
from feedkit.store import newsletter as newsletter_records
from feedkit.store.build import SqliteReviewCache, StoreBodyCache
from feedkit.store.db import Store
from feedkit.urls import SiteUrls


def publish_feeds(config: Config, store: Store, site: Site, now: datetime) -> FeedsWritten:
    """Write the feeds and remember what was written: ids, fingerprints, bodies, the index."""
    plans = feed_plans(config, site.published_reviews)
    previous = build_state.outputs_of_folder(store, str(config.output_dir.resolve()))
    work = FeedWork(
        plans, stable_ids(config, store, plans), previous, build_state.first_build(store, now)
    )
    bodies = BodyRenderer(config, StoreBodyCache(store))
    feeds = write_feeds(config, work, bodies)
    bodies.save()
    build_state.record_outputs(store, feeds.fingerprints)
    build_state.forget_outputs(store, feeds.forgotten)
    listed = [(plan.folder, plan.title) for plan in plans if plan.subscription]
    build_state.record_feed_index(store, listed)
    return feeds


def announce(config: Config, changed_feeds: list[str]) -> tuple[str, ...]:
    """Tell the WebSub hubs of each rewritten feed (relative paths); a note per hub."""
    if not config.feeds.websub_hubs or not changed_feeds:
        return ()
    from feedkit.feeds import websub  # noqa: PLC0415 - urllib only when there is a hub to call

    urls = SiteUrls.of(config)
    return tuple(websub.announce(config.feeds.websub_hubs, [urls.url(p) for p in changed_feeds]))


def record_visibility(store: Store, site: Site) -> None:
    """Note which reviews are public now, so one that was a draft goes into the next digest."""
    public = {review.source for review in site.published_reviews}
    hidden = {review.source for review in site.reviews} - public
    newsletter_records.record_review_visibility(store, public, hidden, site.now)


def stable_ids(config: Config, store: Store, plans: list[FeedPlan]) -> dict[str, str]:
    """Each review's feed id: its front-matter `id`, else the tag URI it was first published under.

    Ids are fixed when a review first appears in a feed: no reader has seen one before that.
    """
    reviews = list({review.source: review for plan in plans for review in plan.reviews}.values())
    known = build_state.known_entry_ids(store)
    urls = SiteUrls.of(config)
    new = {
        review.source: urls.tag_uri(review, config)
        for review in reviews
        if not review.entry_id and review.source not in known
    }
    build_state.remember_entry_ids(store, new)
    return {
        review.source: review.entry_id or known.get(review.source) or new[review.source]
        for review in reviews
    }


def load(
    config: Config,
    store: Store,
    now: datetime,
    stamps: list[FileStamp] | None = None,
    save_cache: bool = True,
) -> LoadResult:
    """The site as it is now, through the parse cache; `stamps` reuses a scan already made."""
    cache = SqliteReviewCache(store, cache_fingerprint(config), saving=save_cache)
    result = load_site(config, now, cache, stamps)
    if save_cache:
        cache.save()
    return result
