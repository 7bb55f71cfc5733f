"""The content model: reviews, their authors and the site they make up.

Frozen dataclasses built once by the loader and never mutated; no I/O here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What identifies one version of a file without reading it (or a folder that could not be
    read)."""

    source: str
    size: int
    mtime_ns: int
    error: str | None = None  # set for a sub-folder the scan could not enter


class ReviewStatus(enum.Enum):
    """Where a review stands at a given moment."""

    PUBLISHED = "published"
    DRAFT = "draft"
    SCHEDULED = "scheduled"

    @property
    def is_public(self) -> bool:
        return self is ReviewStatus.PUBLISHED


@dataclass(frozen=True, slots=True)
class Author:
    """A review's author; only the name is required."""

    name: str
    email: str | None = None
    uri: str | None = None
    bio: str | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """One review's metadata, as read from its front matter; the body is read only when needed."""

    source: str  # path relative to the content folder, with '/' separators
    title: str
    slug: str
    path: str  # the permalink path below the site's base URL, e.g. "/reviews/2025/vertigo/"
    published: datetime  # timezone-aware, in UTC
    updated: datetime | None = None
    authors: tuple[Author, ...] = ()
    summary: str | None = None  # the front-matter standfirst, plain text
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rating: float | None = None
    image: str | None = None  # as written; made absolute when rendered
    draft: bool = False
    entry_id: str | None = None  # a front-matter `id` that overrides the stable id
    extra: tuple[tuple[str, str], ...] = ()  # unknown front-matter keys, kept as text
    content_hash: str = ""
    notes: tuple[str, ...] = ()  # values that were ignored, each a message for the editor

    @property
    def last_modified(self) -> datetime:
        return max(self.published, self.updated) if self.updated else self.published

    def status(self, now: datetime) -> ReviewStatus:
        if self.draft:
            return ReviewStatus.DRAFT
        if self.published > now:
            return ReviewStatus.SCHEDULED
        return ReviewStatus.PUBLISHED


@dataclass(frozen=True, slots=True)
class Problem:
    """A review file that could not be used, or a value in it that was ignored."""

    path: Path
    message: str
    line: int | None = None
    skipped: bool = True  # False: the review was published without the bad value

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return printable(f"{where}: {self.message}")


def printable(text: str) -> str:
    """Text with every control or other unprintable character escaped (a newline as '\\n').

    File names and front-matter values reach one-line messages and logs: a newline in one must
    not start a line of its own.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


@dataclass(frozen=True, slots=True)
class Site:
    """Every usable review, newest first, as seen at one moment."""

    reviews: tuple[Review, ...]
    now: datetime
    published_reviews: tuple[Review, ...] = field(init=False)  # derived once: read by every output
    counts: dict[ReviewStatus, int] = field(init=False)

    def __post_init__(self) -> None:
        statuses = [review.status(self.now) for review in self.reviews]
        public = tuple(
            review
            for review, status in zip(self.reviews, statuses, strict=True)
            if status.is_public
        )
        object.__setattr__(self, "published_reviews", public)
        object.__setattr__(
            self, "counts", {status: statuses.count(status) for status in ReviewStatus}
        )

    def count(self, status: ReviewStatus) -> int:
        return self.counts[status]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What the loader found: the site, and every file it could not fully use."""

    site: Site
    problems: tuple[Problem, ...] = field(default=())


def rating_stars(rating: float) -> str:
    """A 0-5 rating as five stars, halves shown as '½'."""
    whole = int(rating)
    half = "½" if rating - whole >= 0.5 else ""
    return "★" * whole + half + "☆" * (5 - whole - (1 if half else 0))
