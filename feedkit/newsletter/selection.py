"""Choosing what the next digest holds: a pure function of the site and the digests before it.

A review goes into the first digest after it became public, once. When it became public is its
date, unless feedkit first saw it hidden (a draft, or dated in the future): then it is the moment
a build or a digest first saw it public. The first digest looks back `lookback_days`; that floor
stays, so a review held back by `max_items` or published late goes into a later digest.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from feedkit.model import Review, Site


@dataclass(frozen=True, slots=True)
class Seen:
    """What feedkit noticed of one review: whether it was hidden when first seen, and when it
    was first seen public (None while it is still hidden)."""

    was_hidden: bool
    public_at: datetime | None


@dataclass(frozen=True, slots=True)
class DigestHistory:
    """What earlier digests and builds left that selection depends on."""

    floor: datetime | None  # the first digest's look-back moment; None before any digest
    already: Set[str] = frozenset()  # reviews in some digest already
    seen: dict[str, Seen] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Selection:
    """The reviews the next digest would hold, and the moment it looks back to."""

    since: datetime
    reviews: tuple[Review, ...]
    first: bool = False  # no digest went before this one


def select_reviews(
    site: Site, history: DigestHistory, *, lookback_days: int, max_items: int
) -> Selection:
    """Public reviews in no digest yet, newest first, that became public after the floor."""
    since = history.floor or site.now - timedelta(days=lookback_days)
    late = late_public(history.seen, site.published_reviews, site.now)
    fresh = [
        review
        for review in site.published_reviews
        if review.source not in history.already
        and late.get(review.source, review.published) > since
    ]
    return Selection(since, tuple(fresh[:max_items]), first=history.floor is None)


def latest_reviews(site: Site, selection: Selection, max_items: int) -> Selection:
    """The newest public reviews, for a preview or a test when nothing is new."""
    return Selection(selection.since, site.published_reviews[:max_items], selection.first)


def late_public(
    seen: dict[str, Seen], public: tuple[Review, ...], now: datetime
) -> dict[str, datetime]:
    """When each public review that was first seen hidden became public (now, if only just)."""
    late = {}
    for review in public:
        known = seen.get(review.source)
        if known is not None and known.was_hidden:
            late[review.source] = known.public_at or now
    return late
