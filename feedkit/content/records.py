"""A parsed review as a compact JSON record and back: the form the parse cache stores and worker
processes send home."""

from __future__ import annotations

import json
import sys
from datetime import datetime

from feedkit.model import Author, Review


def review_to_record(review: Review) -> str:
    """A review as a compact JSON array (field order is part of the cache fingerprint)."""
    return json.dumps(
        [
            review.title,
            review.slug,
            review.path,
            review.published.isoformat(),
            review.updated.isoformat() if review.updated else None,
            [[author.name, author.email, author.uri, author.bio] for author in review.authors],
            review.summary,
            review.categories,
            review.tags,
            review.rating,
            review.image,
            review.draft,
            review.entry_id,
            review.extra,
            review.notes,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def review_from_record(source: str, content_hash: str, record: str) -> Review:
    (
        title,
        slug,
        path,
        published,
        updated,
        authors,
        summary,
        categories,
        tags,
        rating,
        image,
        draft,
        entry_id,
        extra,
        notes,
    ) = json.loads(record)
    return Review(
        source=source,
        title=title,
        slug=slug,
        path=path,
        published=datetime.fromisoformat(published),
        updated=datetime.fromisoformat(updated) if updated else None,
        authors=tuple(_author(*author) for author in authors),
        summary=summary,
        categories=tuple(map(sys.intern, categories)),
        tags=tuple(map(sys.intern, tags)),
        rating=rating,
        image=image,
        draft=draft,
        entry_id=entry_id,
        extra=tuple((key, value) for key, value in extra),
        notes=tuple(notes),
        content_hash=content_hash,
    )


def _author(name: str, email: str | None, uri: str | None, bio: str | None) -> Author:
    """One string for each part of an author many reviews repeat (as categories and tags are):
    a site of 100,000 reviews would otherwise hold each of them 100,000 times."""
    return Author(
        sys.intern(name), *(sys.intern(part) if part else part for part in (email, uri, bio))
    )
