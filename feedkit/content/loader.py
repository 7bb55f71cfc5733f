"""Finding and reading review files into `Review`s, with every unusable file reported as a
`Problem`.

One bad file never stops the others; unchanged files come from the cache without being read.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from feedkit.config import Config
from feedkit.content.files import (
    SIZE_HINT,
    RejectedFileError,
    decode_review,
    is_utf8_name,
    read_at_most,
    scan_content,
)
from feedkit.content.frontmatter import FrontMatterError, SplitFile, key_line, split_front_matter
from feedkit.content.markup import absolute_url, body_warnings
from feedkit.content.metadata import (
    DATE_KEYS,
    KNOWN_KEYS,
    PUBLISH_DATE_KEYS,
    UPDATED_KEYS,
    as_text_list,
    as_written,
    authors_from,
    date_from_file_name,
    image_from,
    is_draft,
    lifted_sections,
    parse_date,
    rating_from,
    slugify,
    summary_from,
    text_or_none,
    yes_no,
)
from feedkit.content.records import review_from_record, review_to_record
from feedkit.model import Author, FileStamp, LoadResult, Problem, Review, Site
from feedkit.workers import each_result


class ReviewCache(Protocol):
    """Parsed reviews remembered between builds, keyed by path, size, mtime and content hash."""

    def get(self, stamp: FileStamp) -> Review | None: ...

    def get_by_hash(self, stamp: FileStamp, content_hash: str) -> Review | None: ...

    def put(self, stamp: FileStamp, review: Review, record: str | None = None) -> None: ...


def load_site(
    config: Config,
    now: datetime,
    cache: ReviewCache | None = None,
    stamps: list[FileStamp] | None = None,
) -> LoadResult:
    """Read every review file under the content folder; unusable files become problems."""
    reviews: list[Review] = []
    problems: list[Problem] = []
    to_parse: list[FileStamp] = []
    for stamp in scan_content(config).stamps if stamps is None else stamps:
        if stamp.error:
            problems.append(Problem(Path(config.content.dir) / stamp.source, stamp.error))
            continue
        if not is_utf8_name(stamp.source):
            shown = stamp.source.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            problems.append(Problem(Path(config.content.dir) / shown, _NOT_UTF8_NAME))
            continue
        review = cache.get(stamp) if cache else None
        if review is None:
            to_parse.append(stamp)
        else:
            reviews.append(review)
    for _, outcome in parse_files(config, to_parse, cache):
        if isinstance(outcome, Problem):
            problems.append(outcome)
        else:
            reviews.append(outcome)
    problems.extend(
        problem
        for review in reviews
        if review.notes
        for problem in _value_problems(config, review)
    )
    kept, duplicates = _drop_duplicate_slugs(reviews, config.content.dir)
    kept.sort(key=lambda review: (review.published, review.source), reverse=True)
    problems.sort(key=lambda problem: str(problem.path))
    return LoadResult(Site(tuple(kept), now), tuple(problems + duplicates))


ParseOutcome = tuple[FileStamp, Review | Problem]
PARALLEL_SHARE = (
    1000  # files per core below which starting a worker process costs more than it saves
)


def parse_files(
    config: Config, stamps: list[FileStamp], cache: ReviewCache | None
) -> Iterator[ParseOutcome]:
    """Parse the files the cache could not answer for; a cold build of a large site uses every
    core. Each outcome is handed on as it comes, and a review's record goes to the cache as it
    came from the worker, not written out a second time."""
    if len(stamps) < 2 * PARALLEL_SHARE:
        for stamp in stamps:
            outcome = _load_file(config, stamp, cache)
            if cache is not None and not isinstance(outcome, Problem):
                cache.put(stamp, outcome)
            yield stamp, outcome
        return
    chunks = functools.partial(_parse_chunk, config)
    for stamp, wire in each_result(chunks, stamps, PARALLEL_SHARE):
        if isinstance(wire, Problem):
            yield stamp, wire
            continue
        review = review_from_record(stamp.source, *wire)
        if cache is not None:
            cache.put(stamp, review, record=wire[1])
        yield stamp, review


def _parse_chunk(
    config: Config, stamps: list[FileStamp]
) -> list[tuple[FileStamp, tuple[str, str] | Problem]]:
    """Runs in a worker process; reviews travel back as JSON records, which pickle far faster."""
    outcomes = ((stamp, _load_file(config, stamp, None)) for stamp in stamps)
    return [(stamp, _to_wire(outcome)) for stamp, outcome in outcomes]


def _to_wire(outcome: Review | Problem) -> tuple[str, str] | Problem:
    return (
        outcome
        if isinstance(outcome, Problem)
        else (outcome.content_hash, review_to_record(outcome))
    )


def _from_wire(stamp: FileStamp, outcome: tuple[str, str] | Problem) -> Review | Problem:
    return outcome if isinstance(outcome, Problem) else review_from_record(stamp.source, *outcome)


_NOT_UTF8_NAME = "its name is not UTF-8, so it cannot be part of a URL; rename the file"


def _load_file(config: Config, stamp: FileStamp, cache: ReviewCache | None) -> Review | Problem:
    """One file as a Review, or the Problem that keeps it out."""
    limit_kb = config.content.max_file_kb
    if stamp.size > limit_kb * 1024:
        size_kb = -(-stamp.size // 1024)
        return _problem(config, stamp, f"is {size_kb} KB, over the {limit_kb} KB {SIZE_HINT}")
    try:
        data = read_at_most(f"{config.content_dir}/{stamp.source}", limit_kb)
    except OSError as exc:
        return _problem(config, stamp, f"cannot be read ({exc.strerror}); check its permissions")
    except RejectedFileError as rejected:
        return _problem(config, stamp, str(rejected))
    content_hash = hashlib.sha256(data).hexdigest()
    cached = cache.get_by_hash(stamp, content_hash) if cache is not None else None
    if cached is not None:
        return cached
    try:
        return parse_review(decode_review(data), stamp.source, content_hash, config)
    except RejectedFileError as rejected:
        return _problem(config, stamp, str(rejected), rejected.line)


def _problem(config: Config, stamp: FileStamp, message: str, line: int | None = None) -> Problem:
    return Problem(Path(config.content.dir) / stamp.source, message, line)


def parse_review(text: str, source: str, content_hash: str, config: Config) -> Review:
    """Turn one file's text into a Review, or raise RejectedFileError saying why it cannot be
    used."""
    try:
        split = split_front_matter(text)
    except FrontMatterError as exc:
        raise RejectedFileError(str(exc), exc.line) from None
    values = lifted_sections(split.values)
    zone = config.zone
    title = _title(split)
    folder, _, name = source.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    if stem.lower() == "index":  # a Hugo page bundle: the folder names the review
        stem = folder.rpartition("/")[2] or stem
    name_date, name_slug = date_from_file_name(stem)
    jekyll = "_posts" in folder.split("/")
    published = _published(split, values, name_date, zone)
    slug = slugify(str(values.get("slug") or "")) or slugify(name_slug) or slugify(title)
    rating, rating_notes = rating_from(values.get("rating"))
    image, image_notes = _safe_image(image_from(values))
    authors, author_notes = _safe_author_links(authors_from(values), config.base_url)
    return Review(
        source=source,
        title=title,
        slug=slug,
        path=permalink_path(config.content.permalink, slug, published, zone),
        published=published,
        updated=_optional_date(split, values, UPDATED_KEYS, zone),
        authors=authors,
        summary=summary_from(values),
        categories=_names(values, "categories", "category", jekyll),
        tags=_names(values, "tags", "tag", jekyll),
        rating=rating,
        image=image,
        draft=is_draft(values),
        entry_id=text_or_none(values.get("id")),
        extra=tuple(
            (key, as_written(value)) for key, value in values.items() if key not in KNOWN_KEYS
        ),
        content_hash=content_hash,
        notes=rating_notes + image_notes + author_notes + body_warnings(split.body),
    )


def _names(values: dict[str, Any], plural: str, singular: str, jekyll: bool) -> tuple[str, ...]:
    """Categories or tags. Jekyll reads a plural key's string as names between spaces (`tags:
    noir criterion`), and the singular key as one name."""
    if plural in values:
        return as_text_list(values[plural], spaced=jekyll)
    return as_text_list(values.get(singular))


_NOT_SAFE = "is not an http, https, mailto or tel link; published without it"
Notes = tuple[str, ...]  # messages for the editor about values left out


def _safe_image(image: str | None) -> tuple[str | None, Notes]:
    """The image as written, if its link is safe; it is made absolute against the page later."""
    if image is None or absolute_url("https://example.invalid/", image) is not None:
        return image, ()
    return None, (f"image: {image!r} {_NOT_SAFE}",)


def _safe_author_links(authors: tuple[Author, ...], base: str) -> tuple[tuple[Author, ...], Notes]:
    """Author links made absolute against the site (an author's page is not below a review's).

    A link of an unsafe scheme (javascript:, data:, ...) is dropped, with a note.
    """
    kept: list[Author] = []
    notes: list[str] = []
    for author in authors:
        uri = absolute_url(base, author.uri) if author.uri else None
        if author.uri and uri is None:
            notes.append(f"author {author.name!r}: link {author.uri!r} {_NOT_SAFE}")
        kept.append(dataclasses.replace(author, uri=uri))
    return tuple(kept), tuple(notes)


def _title(split: SplitFile) -> str:
    title = text_or_none(split.values.get("title"))
    if title is None:
        line = key_line(split, "title")
        raise RejectedFileError("has no title; add a line 'title: ...' to the front matter", line)
    return title


def _published(
    split: SplitFile, values: dict[str, Any], name_date: date | None, zone: tzinfo
) -> datetime:
    written = _optional_date(split, values, DATE_KEYS, zone)
    held_until = _optional_date(split, values, PUBLISH_DATE_KEYS, zone)
    moments = [moment for moment in (written, held_until) if moment is not None]
    if moments:
        return max(moments)
    if name_date is not None:
        return parse_date(name_date, zone)
    raise RejectedFileError(
        "has no date; add 'date: 2024-02-28' to the front matter, or start the file name with the "
        "date",
        2,
    )


def _optional_date(
    split: SplitFile, values: dict[str, Any], keys: tuple[str, ...], zone: tzinfo
) -> datetime | None:
    """The first of `keys` that holds a date; `published: false` is a status, not a date."""
    for key in keys:
        value = values.get(key)
        if value is None or value == "" or yes_no(value) is not None:
            continue
        try:
            return parse_date(value, zone)
        except ValueError as exc:
            raise RejectedFileError(f"{key}: {exc}", key_line(split, key)) from None
    return None


def _value_problems(config: Config, review: Review) -> list[Problem]:
    path = Path(config.content.dir) / review.source
    return [Problem(path, note, skipped=False) for note in review.notes]


def permalink_path(pattern: str, slug: str, published: datetime, zone: tzinfo) -> str:
    """The review's path below the base URL, with the date taken in the site's zone."""
    local = published.astimezone(zone)
    return pattern.format(
        year=f"{local.year:04d}", month=f"{local.month:02d}", day=f"{local.day:02d}", slug=slug
    )


def _drop_duplicate_slugs(
    reviews: list[Review], content_dir: str
) -> tuple[list[Review], list[Problem]]:
    """Two reviews cannot share a slug: the first published keeps it, the others are reported."""
    owners: dict[str, Review] = {}
    problems: list[Problem] = []
    # A draft never takes a slug from a review that is out; among equals the first published wins.
    for review in sorted(reviews, key=lambda item: (item.draft, item.published, item.source)):
        owner = owners.setdefault(review.slug, review)
        if owner is not review:
            problems.append(
                Problem(
                    Path(content_dir) / review.source,
                    f"slug '{review.slug}' is already used by {Path(content_dir) / owner.source}; "
                    "give this review its own 'slug:' in the front matter",
                )
            )
    return list(owners.values()), problems
