"""Splitting a review file into front matter and body, and reading the front matter's values.

Pure functions over text: YAML (`---`) or TOML (`+++`) front matter, dates, slugs, authors.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

import yaml
from dateutil import parser as date_parser

try:  # libyaml's C parser is several times faster; fall back where it was not built
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was installed
    from yaml import SafeLoader  # type: ignore[assignment]


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


FENCES = {"---": "yaml", "+++": "toml"}
_DATE_SENTINEL = datetime(1, 1, 1)


def split_front_matter(text: str) -> SplitFile:
    """Find the front matter fence, parse what is inside it, and return the rest as the body."""
    first_line, _, rest = text.partition("\n")
    fence = first_line.strip()
    if fence not in FENCES:
        raise FrontMatterError(
            "has no front matter; start the file with a '---' line, then 'title: ...', then a '---' line", 1
        )
    closing = re.search(rf"^{re.escape(fence)}[ \t]*$", rest, re.MULTILINE)
    if closing is None:
        raise FrontMatterError(f"front matter is never closed; add a '{fence}' line after it", 1)
    inner = rest[: closing.start()]
    body = rest[closing.end() :].removeprefix("\n")
    values = _parse_yaml(inner) if FENCES[fence] == "yaml" else _parse_toml(inner)
    return SplitFile(values, body, inner, inner.count("\n") + 3)


def _parse_yaml(inner: str) -> dict[str, Any]:
    try:
        values = yaml.load(inner, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark else None
        raise FrontMatterError(f"front matter is not valid YAML ({exc.problem}); fix that line", line) from exc
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML ({exc})", None) from exc
    return _as_mapping(values)


def _parse_toml(inner: str) -> dict[str, Any]:
    try:
        values = tomllib.loads(inner)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise FrontMatterError(f"front matter is not valid TOML ({exc}); fix that line", line) from exc
    return _as_mapping(values)


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
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
    pattern = re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*[:=]", re.IGNORECASE)
    for number, line in enumerate(split.front_matter_text.split("\n"), start=2):
        if pattern.match(line):
            return number
    return None


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
    return moment.astimezone(UTC)


def _parse_date_text(text: str) -> datetime:
    hint = f"'{text}' is not a date; write e.g. 2024-02-28 or 2024-02-28 19:30"
    try:
        moment = date_parser.parse(text, default=_DATE_SENTINEL)
    except (ValueError, OverflowError):
        raise ValueError(hint) from None
    if moment.year == _DATE_SENTINEL.year:
        raise ValueError(f"'{text}' has no year; write e.g. 2024-02-28")
    return moment


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


def slugify(text: str) -> str:
    """A URL-safe slug: lower case, accents folded, words joined by '-'; non-Latin letters are kept."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    folded = unicodedata.normalize("NFKC", folded).lower()
    return re.sub(r"[\W_]+", "-", folded).strip("-")


def as_text_list(value: object) -> tuple[str, ...]:
    """Categories and tags: a list, or one string with commas between the names."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    names = (str(item).strip() for item in items if item is not None)
    return tuple(dict.fromkeys(name for name in names if name))
