"""Front matter as syntax: finding the fence, and reading what is inside it into plain values.

One reader per dialect, chosen by how the file starts: YAML between `---` lines, TOML between
`+++` lines. What the values mean (dates, slugs, authors) is `feedkit.content.metadata`'s job.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

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
    first_line: int = 2  # the file line front_matter_text starts on: after a fence, or the first


FENCES = {"---": "yaml", "+++": "toml"}


MAX_FRONT_MATTER_BYTES = 64 * 1024  # a review's details; past this it is a mistake or an attack
MAX_NESTING = 32  # front matter nests two or three deep; TOML's reader recurses per level
_CLOSING_FENCE = {fence: re.compile(rf"^{re.escape(fence)}[ \t]*$", re.M) for fence in FENCES}
_TOO_DEEP = f"front matter nests lists or mappings more than {MAX_NESTING} deep; write it flatter"


def split_front_matter(text: str) -> SplitFile:
    """Find the front matter fence, parse what is inside it, and return the rest as the body."""
    first_line, _, rest = text.partition("\n")
    fence = first_line.strip()
    if fence not in FENCES:
        from feedkit.content import headers  # noqa: PLC0415 - it imports this module

        if headers.starts_with_headers(text):
            unfenced = _split_unfenced_yaml(text)
            return unfenced if unfenced is not None else headers.split_headers(text)
        raise FrontMatterError(
            "has no front matter; start the file with a '---' line, then 'title: ...', then a "
            "'---' line",
            1,
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
    return SplitFile(values, body, inner)


def _split_unfenced_yaml(text: str) -> SplitFile | None:
    """Hexo's posts: YAML from the first line to a `---` line, with no opening fence. Only a
    block with no blank line before its `---` is one; after a blank line it is a Pelican header
    block followed by the body, where a `---` is a rule."""
    start = 0
    while True:
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if not line.strip() or start > MAX_FRONT_MATTER_BYTES:
            return None
        if line.rstrip() == "---":
            break
        if end < 0:
            return None
        start = end + 1
    inner = text[: max(start - 1, 0)]
    try:
        values = _parse_yaml(inner)
    except FrontMatterError as exc:  # its lines count from a fence; here there is none
        raise FrontMatterError(str(exc), exc.line - 1 if exc.line else None) from None
    body = "" if end < 0 else text[end + 1 :]
    return SplitFile(values, body, inner, first_line=1)


def _parse_yaml(inner: str) -> dict[str, Any]:
    import yaml  # noqa: PLC0415 - imported on first use; an unchanged site parses no YAML

    from feedkit.content.yamlreader import RefusedYamlError, load_yaml  # noqa: PLC0415

    try:
        values = load_yaml(inner)
    except RefusedYamlError as exc:
        raise FrontMatterError(str(exc), exc.line + 1 if exc.line else None) from None
    except yaml.MarkedYAMLError as exc:
        message = f"front matter is not valid YAML ({exc.problem}); fix that line"
        raise FrontMatterError(message, _yaml_line(exc)) from exc
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML ({exc})", None) from exc
    except ValueError as exc:  # PyYAML builds `2025-02-30` as a date and the calendar refuses it
        raise _impossible_date(inner, exc) from exc
    except RecursionError:  # a pathological value PyYAML's pure loader recurses into
        raise FrontMatterError(_TOO_DEEP, None) from None
    return _as_mapping(values)


def _yaml_line(exc: yaml.MarkedYAMLError) -> int | None:
    """The file line to blame: where an unclosed quote or bracket opens, else where parsing
    stopped."""
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
        raise FrontMatterError(
            f"front matter is not valid TOML ({exc}); fix that line", line
        ) from exc
    except RecursionError:  # tomllib recurses once per level of nested arrays and tables
        raise FrontMatterError(_TOO_DEEP, None) from None
    if _depth(values) > MAX_NESTING:  # the same limit as YAML's, whatever the recursion limit
        raise FrontMatterError(_TOO_DEEP, None)
    return _as_mapping(values)


def _depth(value: object) -> int:
    """How deep lists and tables nest in a parsed value (bounded: the text was parsed already)."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_TOML_ERROR_LINE = re.compile(r"line (\d+)")


def _toml_error_line(message: str) -> int | None:
    match = _TOML_ERROR_LINE.search(message)
    return int(match.group(1)) + 1 if match else None


def _as_mapping(values: object) -> dict[str, Any]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise FrontMatterError(
            "front matter must be 'key: value' lines, not a single value or a list", 2
        )
    # Editors write `Title:` as often as `title:`; keys are matched without regard to case.
    return {str(key).strip().lower(): value for key, value in values.items()}


def key_line(split: SplitFile, key: str) -> int | None:
    """The file line on which a front-matter key is written, for error messages."""
    pattern = _key_pattern(key)
    for number, line in enumerate(split.front_matter_text.split("\n"), start=split.first_line):
        if pattern.match(line):
            return number
    return None


@functools.lru_cache(maxsize=64)
def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*[:=]", re.IGNORECASE)
