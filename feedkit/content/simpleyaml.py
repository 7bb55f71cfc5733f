"""A quick reader for the plain subset of YAML that front matter nearly always is.

`key: value` lines, flow lists of plain words, block lists and one level of nested mapping, with
PyYAML's own rules deciding what a plain value means. Anything else returns None, and the caller
uses PyYAML: this module may decline, but it must never disagree (tests compare the two).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

# Values are taken greedily to the end of the line and their trailing blanks stripped in code:
# a lazy `(.*?)[ \t]*` tries every split of a long run of blanks, which is quadratic.
_TOP_KEY = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*))?")
_NESTED_KEY = re.compile(r"( +)([A-Za-z_][\w-]*)[ \t]*:[ \t]+(.*)")
_ITEM = re.compile(r"( *)-[ \t]+(.*)")
_COMMENT_START = re.compile(r"[ \t]#")  # a comment is '#' after a blank
_BLANKS = " \t"
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_UNSAFE_START = frozenset("[]{}#&*!|>'\"%@`,?:-")
_BOOLEANS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


class _Declined(Exception):  # noqa: N818 - a signal, not an error: "let PyYAML read this"
    """The text is outside the subset; PyYAML must read it."""


def load(text: str) -> dict[str, Any] | None:
    """The front matter's values, or None when PyYAML must read this text instead."""
    try:
        return _Reader().read(text)
    except _Declined:
        return None


class _Reader:
    """Reads line by line, remembering which key an indented block belongs to."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.open_key: str | None = None  # a `key:` with no value, whose block may follow
        self.nested_indent = 0

    def read(self, text: str) -> dict[str, Any]:
        for line in text.split("\n"):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0] not in " \t-":
                self._top_line(line)
            else:
                self._block_line(line)
        return self.values

    def _top_line(self, line: str) -> None:
        match = _TOP_KEY.fullmatch(line)
        if match is None:
            raise _Declined
        key, raw = match[1], match[2]
        if raw is None or raw.startswith("#"):
            self.values[key] = None
            self.open_key = key
            return
        self.values[key] = value(raw.rstrip(_BLANKS))
        self.open_key = None

    def _block_line(self, line: str) -> None:
        key = self.open_key
        if key is None or "\t" in line:
            raise _Declined
        current = self.values[key]
        item = _ITEM.fullmatch(line)
        if item is not None and isinstance(current, list | None):
            if current is None:
                self.values[key] = current = []
            current.append(scalar(item[2].rstrip(_BLANKS)))
            return
        nested = _NESTED_KEY.fullmatch(line)
        if nested is None or not isinstance(current, dict | None):
            raise _Declined
        if current is None:
            self.values[key] = current = {}
            self.nested_indent = len(nested[1])
        if len(nested[1]) != self.nested_indent:
            raise _Declined
        current[nested[2]] = scalar(nested[3].rstrip(_BLANKS))


def value(raw: str) -> Any:
    """A value after `key:`: a scalar or a one-line flow list of plain words."""
    if raw.startswith("["):
        return _flow_list(raw)
    return scalar(raw)


def _without_comment(raw: str) -> str:
    comment = _COMMENT_START.search(raw)
    return raw if comment is None else raw[: comment.start()].rstrip(_BLANKS)


def _flow_list(raw: str) -> list[Any]:
    raw = _without_comment(raw)
    if not raw.endswith("]") or any(char in raw[1:-1] for char in "[]{}\"'#"):
        raise _Declined
    inner = raw[1:-1].strip()
    if not inner:
        return []
    items = [item.strip() for item in inner.split(",")]
    if items[-1] == "":
        items.pop()  # YAML allows one trailing comma
    if any(not item or ": " in item or item.endswith(":") for item in items):
        raise _Declined
    return [_plain(item) for item in items]


def scalar(raw: str) -> Any:
    """One scalar: quoted without escapes, or plain and resolved as PyYAML would."""
    if raw[:1] in ('"', "'"):
        return _quoted(raw)
    return _plain(_without_comment(raw))


def _quoted(raw: str) -> str:
    quote = raw[0]
    end = raw.find(quote, 1)
    rest = raw[end + 1 :] if end > 0 else ""
    content = raw[1:end]
    is_comment = rest[:1] in (" ", "\t") and rest.lstrip(_BLANKS).startswith("#")
    if end < 0 or (rest.strip() and not is_comment) or rest.startswith(quote):
        raise _Declined
    if quote == '"' and "\\" in content:
        raise _Declined  # escapes: leave them to PyYAML
    return content


def _plain(text: str) -> Any:
    if not text or text[0] in _UNSAFE_START or ": " in text or text.endswith(":") or " #" in text:
        raise _Declined
    tag = _resolve(text)
    if tag == "tag:yaml.org,2002:str":
        return text
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLEANS[text.lower()]
    if tag == "tag:yaml.org,2002:int" and _PLAIN_INT.fullmatch(text):
        return int(text)
    if tag == "tag:yaml.org,2002:float" and _PLAIN_FLOAT.fullmatch(text):
        return float(text)
    if tag == "tag:yaml.org,2002:timestamp":
        return _constructor().construct_yaml_timestamp(yaml.ScalarNode(tag, text))
    raise _Declined


def _resolve(text: str) -> str:
    """The tag PyYAML gives a plain scalar, by PyYAML's own table of patterns."""
    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers
    for tag, pattern in [*resolvers.get(text[0], []), *resolvers.get(None, [])]:
        if pattern.match(text):
            return str(tag)
    return "tag:yaml.org,2002:str"


@functools.cache
def _constructor() -> yaml.constructor.SafeConstructor:
    return yaml.constructor.SafeConstructor()
