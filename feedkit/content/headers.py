"""Front matter as Pelican and MultiMarkdown write it: `Key: value` lines with no fences, up to the
first blank line, the body after it.

Values stay text, as written; `feedkit.content.metadata` reads their meaning as it does YAML's.
Pelican's list keys (`Tags`, `Authors`) are split the way Pelican splits them.
"""

from __future__ import annotations

import re

from feedkit.content.frontmatter import MAX_FRONT_MATTER_BYTES, FrontMatterError, SplitFile

# A key starts with a letter; MultiMarkdown allows spaces in it. The colon is followed by a blank
# or the end of the line, so that a first line such as 'https://example.org' is no header.
_HEADER = re.compile(r"([A-Za-z][A-Za-z0-9_ -]*):(?:[ \t]+(.*)|[ \t]*)")
LIST_KEYS = ("tags", "authors")


def starts_with_headers(text: str) -> bool:
    """Whether the first line of a file is a `Key: value` header."""
    return _HEADER.fullmatch(text.partition("\n")[0].rstrip("\r")) is not None


def split_headers(text: str) -> SplitFile:
    """Read the header block of a file that `starts_with_headers`, and return the rest as the
    body.

    The block ends at the first blank line, or at the first line that is neither a header nor an
    indented continuation of one (Python-Markdown's meta extension, which Pelican uses, does the
    same); a continuation joins its header's value with a space.
    """
    lines = text.split("\n")
    values: dict[str, str] = {}
    key = ""
    end = len(lines)
    for number, line in enumerate(lines):
        header = _HEADER.fullmatch(line.rstrip())
        if header:
            key = header[1].strip().lower()
            values[key] = (header[2] or "").strip()
        elif key and line[:1] in (" ", "\t") and line.strip():
            values[key] = f"{values[key]} {line.strip()}".strip()
        else:
            end = number
            break
    block = "\n".join(lines[:end])
    if len(block.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        limit_kb = MAX_FRONT_MATTER_BYTES // 1024
        raise FrontMatterError(f"front matter is over {limit_kb} KB; keep it to the details", 1)
    body = "\n".join(lines[end:]).removeprefix("\n") if end < len(lines) else ""
    return SplitFile(_with_lists(values), body, block, first_line=1)


def _with_lists(values: dict[str, str]) -> dict[str, object]:
    """`Tags` and `Authors` as lists: split at semicolons when there are any, else at commas."""
    read: dict[str, object] = dict(values)
    for key in LIST_KEYS:
        text = values.get(key)
        if text:
            separator = ";" if ";" in text else ","
            read[key] = [item.strip() for item in text.split(separator) if item.strip()]
    return read
