"""YAML front matter read through libyaml's event stream, with PyYAML's meaning of every value.

libyaml (PyYAML's C binding) scans and parses; values are built straight from its events, and
PyYAML's own resolver and safe constructors decide what each scalar means, so the result is what
PyYAML's safe loader gives (tests compare the two on every corpus). Skipping PyYAML's node tree,
with its two marks per value, makes this several times quicker on front matter as sites write it.

Aliases are refused where they appear: a few of them can nest into a structure far too large to
walk (a "billion laughs"). Nesting deeper than MAX_NESTING is refused before it is built. What
this reader does not build itself (merge keys, collections with tags such as !!set, keys that are
not scalars) goes to PyYAML's own safe loader, made to refuse the same things.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_CParser: Any
try:
    from yaml._yaml import CParser as _CParser  # libyaml's parser, where PyYAML was built with it
except ImportError:  # PyYAML's wheels include it; a build from source may not
    _CParser = None

MAX_NESTING = 32  # front matter nests two or three deep; a parser recursing per level may not
ALIASES = "front matter uses YAML anchors and aliases (&name, *name); write the values out"
TOO_DEEP = f"front matter nests lists or mappings more than {MAX_NESTING} deep; write it flatter"
STR = "tag:yaml.org,2002:str"
# What this reader leaves to PyYAML's loader: keys that merge or assign, and tagged collections.
_SPECIAL_SCALARS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
_PLAIN_COLLECTIONS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
# PyYAML's parts are used as PyYAML's own loaders use them; their stubs type them too narrowly.
_RESOLVER: Any = Resolver()
_CONSTRUCTOR: Any = SafeConstructor()
_CONSTRUCTORS: dict[Any, Any] = SafeConstructor.yaml_constructors
# Only a plain scalar starting with one of these can mean anything but a string.
_MAY_RESOLVE = frozenset(key for key in Resolver.yaml_implicit_resolvers if key)


class RefusedYamlError(ValueError):
    """YAML that is valid but not taken: aliases, or nesting too deep; `line` is 1-based within
    the front matter."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class _Declined(Exception):  # noqa: N818 - a signal, not an error: "let PyYAML's loader build it"
    """Something PyYAML's own loader builds."""


def load_yaml(text: str) -> object:
    """The value of a YAML document, as PyYAML's safe loader reads it; None when it is empty.

    Raises yaml.YAMLError for YAML that is not valid, ValueError for a date the calendar refuses
    (as PyYAML does) and RefusedYamlError for aliases and deep nesting.
    """
    if _CParser is not None:
        try:
            return _EventReader(text).read()
        except _Declined:
            pass
    return yaml.load(text, Loader=fallback_loader())  # noqa: S506 - a safe loader, made stricter


class _EventReader:
    """Builds one document from libyaml's events."""

    def __init__(self, text: str) -> None:
        self.parser: Any = _CParser(text)
        self.next_event: Callable[[], Any] = self.parser.get_event
        self.anchors: dict[str, Any] = {}  # name -> where first set: a second one is an error

    def read(self) -> object:
        try:
            self.next_event()  # the stream starts
            start = self.next_event()
            if isinstance(start, StreamEndEvent):
                return None
            value = self._value(self.next_event(), 0)
            self._expect_one_document(start)
            return value
        finally:
            self.parser.dispose()

    def _expect_one_document(self, start: Any) -> None:
        """As PyYAML does: a second document in the front matter is an error."""
        event = self.next_event()
        if isinstance(event, DocumentEndEvent):
            event = self.next_event()
        if not isinstance(event, StreamEndEvent):
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                start.start_mark,
                "but found another document",
                event.start_mark,
            )

    def _value(self, event: Any, depth: int) -> Any:
        kind = type(event)
        if depth >= MAX_NESTING:
            raise RefusedYamlError(TOO_DEEP, _line(event))
        if kind is AliasEvent:
            raise RefusedYamlError(ALIASES, _line(event))
        if event.anchor is not None:
            self._note_anchor(event)
        if kind is ScalarEvent:
            return _scalar(event)
        if getattr(event, "tag", None) not in _PLAIN_COLLECTIONS:
            raise _Declined
        if kind is MappingStartEvent:
            return self._mapping(depth + 1)
        if kind is SequenceStartEvent:
            return self._sequence(depth + 1)
        raise _Declined  # no other event can start a value; let PyYAML say what is wrong

    def _note_anchor(self, event: Any) -> None:
        """Anchors repeat nothing here (aliases are refused), but one set twice is an error in
        PyYAML, and so here."""
        first = self.anchors.setdefault(event.anchor, event.start_mark)
        if first is not event.start_mark:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {event.anchor!r}; first occurrence",
                first,
                "second occurrence",
                event.start_mark,
            )

    def _mapping(self, depth: int) -> dict[Any, Any]:
        values: dict[Any, Any] = {}
        while True:
            event = self.next_event()
            if type(event) is MappingEndEvent:
                return values
            if type(event) is not ScalarEvent:
                self._value(event, depth)  # an alias as a key is refused here
                raise _Declined  # a list or mapping as a key: PyYAML's loader says it is wrong
            if event.anchor is not None:
                self._note_anchor(event)
            key = _scalar(event)
            values[key] = self._value(self.next_event(), depth)

    def _sequence(self, depth: int) -> list[Any]:
        items: list[Any] = []
        while True:
            event = self.next_event()
            if type(event) is SequenceEndEvent:
                return items
            items.append(self._value(event, depth))


def _scalar(event: Any) -> Any:
    """A scalar's value: by its tag as written, else as PyYAML resolves a plain one (a quoted
    one is a string)."""
    value = event.value
    tag = event.tag
    if tag is None or tag == "!":
        plain = event.implicit[0]
        if not plain or (value and value[0] not in _MAY_RESOLVE):
            return value
        tag = _RESOLVER.resolve(ScalarNode, value, event.implicit)
    if tag == STR:
        return value
    if tag in _SPECIAL_SCALARS:
        raise _Declined
    node = ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
    construct = _CONSTRUCTORS.get(tag, _CONSTRUCTORS[None])
    return construct(_CONSTRUCTOR, node)


def _line(event: Any) -> int | None:
    return event.start_mark.line + 1 if event.start_mark else None


@functools.cache
def fallback_loader() -> type[Any]:
    """PyYAML's safe loader (on libyaml's parser where built), made to refuse aliases and deep
    nesting as the event reader does: for what that reader leaves to PyYAML."""

    class RefusingComposer(yaml.composer.Composer):
        """Composes as PyYAML does, except that an alias or deep nesting is refused where it is,
        however it is written: after a tag, in a flow, as a key."""

        nesting = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event: Any = self.peek_event()  # type: ignore[attr-defined]
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent):
                raise RefusedYamlError(ALIASES, line)
            if self.nesting >= MAX_NESTING:
                raise RefusedYamlError(TOO_DEEP, line)
            self.nesting += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.nesting -= 1

    if _CParser is None:

        class PureLoader(RefusingComposer, yaml.SafeLoader):
            """The pure-Python parser, with the refusing composer."""

        return PureLoader

    class LibyamlLoader(RefusingComposer, yaml.CSafeLoader):
        """libyaml parses; the refusing composer, not libyaml's own, builds the nodes."""

        def __init__(self, stream: str) -> None:
            yaml.CSafeLoader.__init__(self, stream)
            yaml.composer.Composer.__init__(self)

    return LibyamlLoader
