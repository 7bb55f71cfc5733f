"""Front matter as meaning: dates, slugs, authors, ratings, drafts and summaries, from the plain
values a front-matter reader produced, the way editors of different blog engines write them."""

from __future__ import annotations

import functools
import re
import unicodedata
import warnings
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from feedkit.content.markup import clean_text
from feedkit.model import Author

SUMMARY_KEYS = ("summary", "standfirst", "description", "excerpt")


# Keys are read lower-cased, so Astro's `heroImage` is `heroimage` here.
IMAGE_KEYS = (
    "image",
    "cover",
    "cover_image",
    "coverimage",
    "featured_image",
    "featuredimage",
    "heroimage",
    "hero_image",
    "thumbnail",
    "images",
    "header",  # Jekyll's Minimal Mistakes: header: {image: ..., teaser: ...}
)
# Inside an image mapping (Hugo's PaperMod `cover`, Minimal Mistakes' `header`).
IMAGE_FIELDS = ("image", "src", "teaser", "overlay_image")

# When a review went out: `date` first, as every generator has it. Hugo's `publishDate` (and its
# aliases) and Astro's `pubDate` stand in for it, and a publish date later than `date` wins, as
# Hugo holds a page back until then.
DATE_KEYS = ("date", "published")
PUBLISH_DATE_KEYS = ("publishdate", "publish_date", "pubdate", "pub_date")
UPDATED_KEYS = (
    "updated",
    "lastmod",
    "modified",
    "updateddate",  # Astro
    "updated_date",
    "last_modified_at",  # jekyll-last-modified-at
)


KNOWN_KEYS = frozenset(
    {
        "title",
        *DATE_KEYS,
        *PUBLISH_DATE_KEYS,
        *UPDATED_KEYS,
        "author",
        "authors",
        "categories",
        "category",
        "tags",
        "tag",
        "rating",
        "slug",
        "draft",
        "status",
        "id",
        *SUMMARY_KEYS,
        *IMAGE_KEYS,
    }
)


HIDDEN_STATUSES = frozenset({"draft", "hidden", "private", "pending", "unpublished"})


# dateutil fills what a text leaves out from this default; year 1 means the text had no year.
_DATE_SENTINEL = datetime(1, 1, 1)  # noqa: DTZ001 - a default for fields, not a moment


MIN_YEAR, MAX_YEAR = (
    1800,
    9000,
)  # a film review outside these years is a typo (and near 1 or 9999, a crash)


def parse_date(value: object, zone: tzinfo) -> datetime:
    """Read a front-matter date in any common form; a date without a zone is in `zone`.

    Raises ValueError with a message fit for an editor.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        moment = _parse_date_text(value.strip())
    else:
        raise ValueError(f"{value!r} is not a date; write e.g. 2024-02-28 or 2024-02-28 19:30")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(
            f"{value!r} is outside the years {MIN_YEAR}-{MAX_YEAR}; write e.g. 2024-02-28"
        )
    return moment.astimezone(UTC)


def _parse_date_text(text: str) -> datetime:
    try:  # the ISO forms most editors write, read at C speed
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    hint = f"'{text}' is not a date; write e.g. 2024-02-28 or 2024-02-28 19:30"
    _refuse_ambiguous_numeric_date(text)
    from dateutil import parser as date_parser  # noqa: PLC0415 - imported on first use, like yaml

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", date_parser.UnknownTimezoneWarning)
            moment = date_parser.parse(text, default=_DATE_SENTINEL, tzinfos=_ZONE_ABBREVIATIONS)
    except date_parser.UnknownTimezoneWarning:
        raise ValueError(
            f"'{text}' names a time zone feedkit does not know; write an offset, e.g. +01:00"
        ) from None
    except (ValueError, OverflowError):
        raise ValueError(hint) from None
    if moment.year == _DATE_SENTINEL.year:
        raise ValueError(f"'{text}' has no year; write e.g. 2024-02-28")
    return moment


# The abbreviations editors write after a time, read as North American and European zones.
_ZONE_ABBREVIATIONS = {
    name: hours * 3600
    for name, hours in {
        "EST": -5,
        "EDT": -4,
        "CST": -6,
        "CDT": -5,
        "MST": -7,
        "MDT": -6,
        "PST": -8,
        "PDT": -7,
        "BST": 1,
        "CET": 1,
        "CEST": 2,
        "EET": 2,
        "EEST": 3,
    }.items()
}


_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")


def _refuse_ambiguous_numeric_date(text: str) -> None:
    """'10/11/2025' is 10 November in London and 11 October in New York: ask, never guess."""
    match = _NUMERIC_DATE.match(text)
    if match and match[1] != match[2] and int(match[1]) <= 12 and int(match[2]) <= 12:
        year = int(match[3]) if len(match[3]) == 4 else 2000 + int(match[3])
        day_first = f"{year:04d}-{int(match[2]):02d}-{int(match[1]):02d}"
        raise ValueError(
            f"'{text}' could be read day-first or month-first; write it as e.g. {day_first}"
        )


_JEKYLL_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")


def date_from_file_name(stem: str) -> tuple[date | None, str]:
    """Split a Jekyll-style name ('2024-02-28-vertigo') into its date and the rest."""
    match = _JEKYLL_NAME.match(stem)
    if match is None:
        return None, stem
    try:
        return date(int(match[1]), int(match[2]), int(match[3])), match[4]
    except ValueError:
        return None, stem


@functools.lru_cache(maxsize=4096)  # category and tag names repeat across thousands of reviews
def slugify(text: str) -> str:
    """A URL-safe slug: lower case, accents folded, words joined by '-'; non-Latin letters are
    kept."""
    folded = text
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        folded = unicodedata.normalize(
            "NFKC", "".join(c for c in decomposed if not unicodedata.combining(c))
        )
    return _NON_WORD.sub("-", folded.lower()).strip("-")


_NON_WORD = re.compile(r"[\W_]+")


def as_text_list(value: object, *, spaced: bool = False) -> tuple[str, ...]:
    """Categories and tags: a list, or one string with commas between the names; with `spaced`
    (Jekyll's posts), a string without commas has spaces between them. Hexo writes a category
    with its parents as a list inside the list (`- [Films, Noir]`): each name counts."""
    if value is None or isinstance(value, dict):
        return ()
    if isinstance(value, list):
        items = _flattened(value)
    else:
        text = str(value)
        items = text.split() if spaced and "," not in text else text.split(",")
    names = (str(item).strip() for item in items if item is not None)
    return tuple(dict.fromkeys(name for name in names if name))


def _flattened(items: list[Any]) -> list[Any]:
    """One level of nesting opened up; deeper lists or mappings are no names and are dropped."""
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(part for part in item if not isinstance(part, (list, dict)))
        elif not isinstance(item, dict):
            flat.append(item)
    return flat


def lifted_sections(values: dict[str, Any]) -> dict[str, Any]:
    """Zola keeps tags and categories in `[taxonomies]` and a theme's fields in `[extra]`: the
    ones feedkit knows are read as if written at the top, never over a top-level one."""
    lifted = dict(values)
    for section in ("taxonomies", "extra"):
        inner = values.get(section)
        if not isinstance(inner, dict):
            continue
        for key, value in inner.items():
            name = str(key).strip().lower()
            if name in KNOWN_KEYS and name not in lifted:
                lifted[name] = value
    return lifted


def authors_from(values: dict[str, Any]) -> tuple[Author, ...]:
    raw = values.get("authors", values.get("author"))
    items = raw if isinstance(raw, list) else [raw]
    authors = (_author(item) for item in items if item is not None)
    return tuple(author for author in authors if author is not None)


def _author(item: object) -> Author | None:
    if isinstance(item, dict):
        fields = {str(key).lower(): value for key, value in item.items()}
        name = text_or_none(fields.get("name"))
        if name is None:
            return None
        return Author(
            name=name,
            email=text_or_none(fields.get("email")),
            uri=text_or_none(fields.get("uri", fields.get("url", fields.get("website")))),
            bio=text_or_none(fields.get("bio", fields.get("description"))),
        )
    name = text_or_none(item)
    return Author(name) if name else None


def summary_from(values: dict[str, Any]) -> str | None:
    for key in SUMMARY_KEYS:
        text = text_or_none(values.get(key))
        if text:
            return text
    return None


def image_from(values: dict[str, Any]) -> str | None:
    for key in IMAGE_KEYS:
        value = values.get(key)
        if key == "header" and not isinstance(value, dict):
            continue  # a header that is a mapping holds images; as text it is something else
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            fields = {str(name).lower(): field for name, field in value.items()}
            value = next((fields[name] for name in IMAGE_FIELDS if fields.get(name)), None)
        text = text_or_none(value)
        if text:
            return text
    return None


def is_draft(values: dict[str, Any]) -> bool:
    """`draft: true` (or "true", "yes"), `published: false`, or a WordPress-style hidden
    `status`."""
    if yes_no(values.get("draft")) is True or yes_no(values.get("published")) is False:
        return True
    status = values.get("status")
    return isinstance(status, str) and status.strip().lower() in HIDDEN_STATUSES


def yes_no(value: object) -> bool | None:
    """A yes/no value as editors write it, quoted or not; None for anything else (a date, say)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {
            "true": True,
            "yes": True,
            "on": True,
            "false": False,
            "no": False,
            "off": False,
        }.get(value.strip().lower())
    return None


# Matched whole against the stripped value: no two `\s*` meet, so no run of blanks splits two ways.
_RATING = re.compile(r"(\d+(?:\.\d+)?)(?:\s*/\s*5)?")


def rating_from(value: object) -> tuple[float | None, tuple[str, ...]]:
    """A 0-5 rating written as 4, 4.5, "4/5" or stars; anything else is noted and left out."""
    if value is None or value == "":
        return None, ()
    number = _rating_number(value)
    if number is None or not 0 <= number <= 5:
        return None, (
            f"rating: {value!r} is not a number from 0 to 5; published without a rating",
        )
    return number, ()


def _rating_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = _RATING.fullmatch(str(value).strip())
    if match:
        return float(match[1])
    stars = str(value).strip()
    if stars and set(stars) <= set("★☆½ "):
        return stars.count("★") + 0.5 * stars.count("½")
    return None


def as_written(value: object) -> str:
    """An unknown key's value as text an editor would recognise: true, 1958-05-09, 'a, b'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(as_written(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {as_written(item)}" for key, item in value.items())
    return str(value)


def text_or_none(value: object) -> str | None:
    """A front-matter value as one line of text, without characters no feed may carry."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(clean_text(str(value)).split())
    return text or None
