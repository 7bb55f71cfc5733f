"""Topics readers choose, and the digests a run makes from them: one per distinct set of reviews.

Pure functions. A review is in a topic when it has any of the topic's categories or tags
(compared as slugs, so "Blu-ray" and "blu-ray" are one) and, when the topic sets one, a rating at
least its `min_rating`. A reader who chose no topic, or only topics the site no longer has, gets
every review: the site stopped splitting, not the reader subscribing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedkit.config import TopicSettings
from feedkit.content.metadata import slugify
from feedkit.model import Review
from feedkit.newsletter.model import Audience


def in_topic(topic: TopicSettings, review: Review) -> bool:
    """Whether the review belongs to the topic."""
    if topic.min_rating and (review.rating is None or review.rating < topic.min_rating):
        return False
    wanted = {slugify(name) for name in (*topic.categories, *topic.tags)}
    if not wanted:
        return True  # a topic by rating alone
    return not wanted.isdisjoint(slugify(name) for name in (*review.categories, *review.tags))


def reviews_for(
    reviews: Sequence[Review], topics: Sequence[TopicSettings], chosen: Iterable[str]
) -> tuple[Review, ...]:
    """The reviews a reader who chose these topics receives, in the digest's order."""
    known = [topic for topic in topics if topic.name in set(chosen)]
    if not known:
        return tuple(reviews)
    return tuple(review for review in reviews if any(in_topic(t, review) for t in known))


@dataclass(frozen=True, slots=True)
class Segment:
    """The readers of one run who receive the same reviews, so share one rendered digest."""

    reviews: tuple[Review, ...]
    email_keys: tuple[str, ...]
    label: str  # "" for every review of the run; else the topics of its first reader


def segments(
    reviews: Sequence[Review], topics: Sequence[TopicSettings], readers: Sequence[Audience]
) -> list[Segment]:
    """One segment per distinct set of reviews, largest set first; readers with none get none."""
    groups: dict[tuple[str, ...], list[Audience]] = {}
    chosen_reviews: dict[tuple[str, ...], tuple[Review, ...]] = {}
    for reader in readers:
        subset = reviews_for(reviews, topics, reader.topics)
        key = tuple(review.source for review in subset)
        if key:
            groups.setdefault(key, []).append(reader)
            chosen_reviews[key] = subset
    everything = tuple(review.source for review in reviews)
    ordered = sorted(groups, key=lambda key: (-len(key), key))
    return [
        Segment(
            chosen_reviews[key],
            tuple(reader.email_key for reader in groups[key]),
            "" if key == everything else _label(topics, groups[key][0]),
        )
        for key in ordered
    ]


def _label(topics: Sequence[TopicSettings], reader: Audience) -> str:
    names = [topic.name for topic in topics if topic.name in reader.topics]
    return "+".join(names)
