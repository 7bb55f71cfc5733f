"""Splitting a review file into front matter and body, and reading the front matter's values.

Pure functions over text: YAML (`---`) or TOML (`+++`) front matter, dates, slugs, authors.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any

from feedkit.content.markup import clean_text
from feedkit.model import Author

if TYPE_CHECKING:
    import yaml


class FrontMatterError(ValueError):
    """The front matter cannot be read; `line` is 1-based within the file where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class SplitFile:
    """A review file cut in two: its front matter values and its Markdown body."""

    values: dict[str, Any]
    body: str
    front_matter_text: str
    body_line: int  # the 1-based line where the body starts


SUMMARY_KEYS = ("summary", "standfirst", "description", "excerpt")
IMAGE_KEYS = ("image", "cover", "cover_image", "featured_image", "thumbnail", "images")
KNOWN_KEYS = frozenset(
    {"title", "date", "published", "updated", "lastmod", "modified", "author", "authors", "categories",
     "category", "tags", "tag", "rating", "slug", "draft", "status", "id", *SUMMARY_KEYS, *IMAGE_KEYS}
)  # fmt: skip
HIDDEN_STATUSES = frozenset({"draft", "private", "pending", "unpublished"})
FENCES = {"---": "yaml", "+++": "toml"}
_DATE_SENTINEL = datetime(1, 1, 1)
MIN_YEAR, MAX_YEAR = 1800, 9000  # a film review outside these years is a typo (and near 1 or 9999, a crash)


MAX_FRONT_MATTER_BYTES = 64 * 1024  # a review's details; past this it is a mistake or an attack
MAX_NESTING = 32  # front matter nests two or three deep; PyYAML's composer recurses per level
_CLOSING_FENCE = {fence: re.compile(rf"^{re.escape(fence)}[ \t]*$", re.M) for fence in FENCES}
_ALIASES = "front matter uses YAML anchors and aliases (&name, *name); write the values out"
_TOO_DEEP = f"front matter nests lists or mappings more than {MAX_NESTING} deep; write it flatter"


def split_front_matter(text: str) -> SplitFile:
    """Find the front matter fence, parse what is inside it, and return the rest as the body."""
    first_line, _, rest = text.partition("\n")
    fence = first_line.strip()
    if fence not in FENCES:
        raise FrontMatterError(
            "has no front matter; start the file with a '---' line, then 'title: ...', then a '---' line", 1
        )
    closing = _CLOSING_FENCE[fence].search(rest)
    if closing is None:
        raise FrontMatterError(f"front matter is never closed; add a '{fence}' line after it", 1)
    inner = rest[: closing.start()]
    if len(inner.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        limit_kb = MAX_FRONT_MATTER_BYTES // 1024
        raise FrontMatterError(f"front matter is over {limit_kb} KB; keep it to the details", 1)
    body = rest[closing.end() :].removeprefix("\n")
    values = _parse_yaml(inner) if FENCES[fence] == "yaml" else _parse_toml(inner)
    return SplitFile(values, body, inner, inner.count("\n") + 3)


def _parse_yaml(inner: str) -> dict[str, Any]:
    import yaml  # noqa: PLC0415 - imported on first use; an unchanged site parses no YAML

    from feedkit.content import simpleyaml  # noqa: PLC0415 - it needs yaml too

    try:
        values = simpleyaml.load(inner)
        if values is None:  # outside the plain subset: PyYAML reads it
            values = yaml.load(inner, Loader=yaml_loaders()[0])  # noqa: S506 - a safe loader
    except FrontMatterError:
        raise
    except yaml.MarkedYAMLError as exc:
        message = f"front matter is not valid YAML ({exc.problem}); fix that line"
        raise FrontMatterError(message, _yaml_line(exc)) from exc
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML ({exc})", None) from exc
    except ValueError as exc:  # PyYAML builds `2025-02-30` as a date and the calendar refuses it
        raise _impossible_date(inner, exc) from exc
    return _as_mapping(values)


@functools.cache
def yaml_loaders() -> tuple[type[Any], ...]:
    """PyYAML's safe loaders made to refuse aliases and deep nesting; libyaml's first, if built."""
    import yaml  # noqa: PLC0415 - imported on first use, as in _parse_yaml

    class RefusingComposer(yaml.composer.Composer):
        """Composes as PyYAML does, except that an alias or deep nesting is refused where it is.

        Aliases can nest into a structure exponentially large to walk (a "billion laughs"), and
        refusing them here sees them however they are written: after a tag, in a flow, as a key.
        """

        nesting = 0
        peek_event: Callable[[], yaml.Event]  # the parser's, whichever one it is

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            line = event.start_mark.line + 2 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent):
                raise FrontMatterError(_ALIASES, line)
            if self.nesting >= MAX_NESTING:
                raise FrontMatterError(_TOO_DEEP, line)
            self.nesting += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.nesting -= 1

    class PureLoader(RefusingComposer, yaml.SafeLoader):
        """The pure-Python parser, with the refusing composer."""

    if not hasattr(yaml, "CSafeLoader"):
        return (PureLoader,)

    class LibyamlLoader(RefusingComposer, yaml.CSafeLoader):
        """libyaml parses; the refusing composer, not libyaml's own, builds the nodes."""

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            yaml.composer.Composer.__init__(self)

    return (LibyamlLoader, PureLoader)


def _yaml_line(exc: yaml.MarkedYAMLError) -> int | None:
    """The file line to blame: where an unclosed quote or bracket opens, else where parsing stopped."""
    context = exc.context or ""
    opens_a_value = context.startswith(("while scanning a quoted", "while parsing a flow"))
    mark = exc.context_mark if opens_a_value and exc.context_mark else exc.problem_mark
    return mark.line + 2 if mark else None


# Greedy to the end of the line, trailing blanks stripped in code: `.*?\s*$` is quadratic.
_ISO_DATE_LINE = re.compile(r"^\s*([\w-]+)\s*:\s*(\d{4}-\d{1,2}-\d{1,2}\b.*)")


def _impossible_date(inner: str, error: ValueError) -> FrontMatterError:
    for number, line in enumerate(inner.split("\n"), start=2):
        match = _ISO_DATE_LINE.match(line)
        if match and not _is_calendar_date(match[2][:10]):
            written = match[2].rstrip()
            example = "write e.g. 2024-02-28"
            message = f"{match[1].lower()}: '{written}' is not a date in the calendar; {example}"
            return FrontMatterError(message, number)
    return FrontMatterError(f"front matter has a value that cannot be read ({error})", None)


def _is_calendar_date(text: str) -> bool:
    try:
        date(*(int(part) for part in text.split("-")[:3]))
    except (ValueError, TypeError):
        return False
    return True


def _parse_toml(inner: str) -> dict[str, Any]:
    try:
        values = tomllib.loads(inner)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise FrontMatterError(f"front matter is not valid TOML ({exc}); fix that line", line) from exc
    except RecursionError:  # tomllib recurses once per level of nested arrays and tables
        raise FrontMatterError(_TOO_DEEP, None) from None
    return _as_mapping(values)


_TOML_ERROR_LINE = re.compile(r"line (\d+)")


def _toml_error_line(message: str) -> int | None:
    match = _TOML_ERROR_LINE.search(message)
    return int(match.group(1)) + 1 if match else None


def _as_mapping(values: object) -> dict[str, Any]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise FrontMatterError("front matter must be 'key: value' lines, not a single value or a list", 2)
    # Editors write `Title:` as often as `title:`; keys are matched without regard to case.
    return {str(key).strip().lower(): value for key, value in values.items()}


def key_line(split: SplitFile, key: str) -> int | None:
    """The file line on which a front-matter key is written, for error messages."""
    pattern = _key_pattern(key)
    for number, line in enumerate(split.front_matter_text.split("\n"), start=2):
        if pattern.match(line):
            return number
    return None


@functools.lru_cache(maxsize=64)
def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*[:=]", re.IGNORECASE)


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
        raise ValueError(f"{value!r} is outside the years {MIN_YEAR}-{MAX_YEAR}; write e.g. 2024-02-28")
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
        raise ValueError(f"'{text}' names a time zone feedkit does not know; write an offset, e.g. +01:00") from None
    except (ValueError, OverflowError):
        raise ValueError(hint) from None
    if moment.year == _DATE_SENTINEL.year:
        raise ValueError(f"'{text}' has no year; write e.g. 2024-02-28")
    return moment


# The abbreviations editors write after a time, read as North American and European zones.
_ZONE_ABBREVIATIONS = {
    name: hours * 3600
    for name, hours in {
        "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
        "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    }.items()
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")


def _refuse_ambiguous_numeric_date(text: str) -> None:
    """'10/11/2025' is 10 November in London and 11 October in New York: ask, never guess."""
    match = _NUMERIC_DATE.match(text)
    if match and match[1] != match[2] and int(match[1]) <= 12 and int(match[2]) <= 12:
        year = int(match[3]) if len(match[3]) == 4 else 2000 + int(match[3])
        day_first = f"{year:04d}-{int(match[2]):02d}-{int(match[1]):02d}"
        raise ValueError(f"'{text}' could be read day-first or month-first; write it as e.g. {day_first}")


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
    """A URL-safe slug: lower case, accents folded, words joined by '-'; non-Latin letters are kept."""
    folded = text
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        folded = unicodedata.normalize("NFKC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return _NON_WORD.sub("-", folded.lower()).strip("-")


_NON_WORD = re.compile(r"[\W_]+")


def as_text_list(value: object) -> tuple[str, ...]:
    """Categories and tags: a list, or one string with commas between the names."""
    if value is None or isinstance(value, dict):
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    names = (str(item).strip() for item in items if item is not None)
    return tuple(dict.fromkeys(name for name in names if name))


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
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = value.get("image", value.get("src"))
        text = text_or_none(value)
        if text:
            return text
    return None


def is_draft(values: dict[str, Any]) -> bool:
    """`draft: true` (or "true", "yes"), `published: false`, or a WordPress-style hidden `status`."""
    if yes_no(values.get("draft")) is True or yes_no(values.get("published")) is False:
        return True
    status = values.get("status")
    return isinstance(status, str) and status.strip().lower() in HIDDEN_STATUSES


def yes_no(value: object) -> bool | None:
    """A yes/no value as editors write it, quoted or not; None for anything else (a date, say)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}.get(
            value.strip().lower()
        )
    return None


# Matched whole against the stripped value: no two `\s*` meet, so no run of blanks splits two ways.
_RATING = re.compile(r"(\d+(?:\.\d+)?)(?:\s*/\s*5)?")


def rating_from(value: object) -> tuple[float | None, tuple[str, ...]]:
    """A 0-5 rating written as 4, 4.5, "4/5" or stars; anything else is noted and left out."""
    if value is None or value == "":
        return None, ()
    number = _rating_number(value)
    if number is None or not 0 <= number <= 5:
        return None, (f"rating: {value!r} is not a number from 0 to 5; published without a rating",)
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
