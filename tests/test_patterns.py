"""Every regular expression applied to review text does work linear in the text's length.

Work is counted, not timed: tests/regex_steps.py models `re` and counts its steps. Each pattern is
run on adversarial texts (a prefix, a unit repeated n times, a suffix) for n and 2n units; linear
work about doubles, quadratic work quadruples. benchmarks/bench_patterns.py times the same texts.
"""

from __future__ import annotations

import re
from types import ModuleType

import pytest
import yaml

from feedkit.content import files, frontmatter, markup, metadata
from feedkit.content import loader as content
from tests.regex_steps import StepCounter

MODULES = (content, files, frontmatter, markup, metadata)
Shape = tuple[str, str, str]  # prefix, repeated unit, suffix
SPACES: list[Shape] = [("", " ", ""), ("x", " ", "y"), ("", " \t", "#"), ("", "a", "")]
KEY_PATTERN = "frontmatter._key_pattern(title)"  # built per key, so not a module attribute

# How each pattern is used on text an editor wrote, and the texts most likely to make it
# backtrack; each also gets SPACES. Where a finding reported an input, it is the first shape.
ADVERSARIAL: dict[str, tuple[str, list[Shape]]] = {
    "markup.MORE_MARKER": ("finditer", [("", "<!-- more ", ""), ("", "\n \t", "<!--")]),
    "markup._FORBIDDEN_CHARACTERS": ("finditer", [("", "a\x01", "")]),
    "markup._PARAGRAPH": ("finditer", [("", "<p>a", ""), ("<p>", "</p", "")]),
    "markup._HUGO_SHORTCODE": (
        "finditer",
        [
            ("", "{{<a", ""),
            ("{{<", "a", ""),
            ("{{< a", " ", ""),
            ("{{<", " ", "a"),
            ("", "{{</ a ", ""),
            ("", "{{% a>}", ""),
        ],
    ),
    "markup._VIDEO_ID": ("search", [("", "abcd ", ""), ("", "id='a", "")]),
    "markup._LIQUID_TAG": (
        "finditer",
        [
            ("{%", "a", ""),
            ("", "{%a", ""),
            ("{%-", " ", "a-"),
            ("", "{% a %", ""),
        ],
    ),
    "markup._WORDPRESS_SHORTCODE": ("finditer", [("", "[caption", ""), ("", "[/embed ", "")]),
    "markup._SWALLOWING_TAG": (
        "finditer",
        [
            ("", "<script", ""),
            ("", "</style", ""),
            ("", "<!--", ""),
        ],
    ),
    "markup._COMMENT_END": ("finditer", [("", "--!", ""), ("", "-", ">")]),
    "markup._MAY_HIDE_TEXT": (
        "search",
        [
            ("", "<scrip", ""),
            ("", "<!-- mor", ""),
            ("<!--", " ", "x"),
        ],
    ),
    "frontmatter._CLOSING_FENCE[---]": (
        "search",
        [
            ("", "---", ""),
            ("---", " ", "x"),
            ("", "\n--- ", "x"),
        ],
    ),
    "frontmatter._CLOSING_FENCE[+++]": ("search", [("", "+++", ""), ("+++", " ", "x")]),
    "frontmatter._ISO_DATE_LINE": (
        "match",
        [
            ("date: 2025-02-30", " ", "y"),
            ("date", " ", ":"),
            ("d: 2025-1-1", "x ", "y"),
        ],
    ),
    "frontmatter._TOML_ERROR_LINE": ("search", [("", "line ", "")]),
    "metadata._NUMERIC_DATE": ("match", [("1", "1", ""), ("", "1/", "")]),
    "metadata._JEKYLL_NAME": ("match", [("2024-01-01-", "a", ""), ("", "2024-", "")]),
    "metadata._NON_WORD": ("finditer", [("", " -", "a")]),
    "metadata._RATING": ("fullmatch", [("4", " ", "x"), ("4/", " ", "x"), ("", "4", ".")]),
    KEY_PATTERN: ("match", [("", " ", "title"), ("title", " ", "x"), ("'", "'", "")]),
}
# The YAML reader resolves plain values with PyYAML's own table of patterns.
YAML_SHAPES: list[Shape] = [
    (prefix, unit, suffix)
    for prefix in ("", "-", "2025-01-01", "0x", "0b", ".")
    for unit in ("1", "1:", "1_", "1.", "1:1", "e", " ")
    for suffix in ("", "x")
]


def yaml_patterns() -> dict[str, re.Pattern[str]]:
    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers
    return {f"yaml:{tag}": pattern for entries in resolvers.values() for tag, pattern in entries}


def module_patterns(module: ModuleType) -> dict[str, re.Pattern[str]]:
    """The module's compiled patterns, those kept in a dict too."""
    found: dict[str, re.Pattern[str]] = {}
    for name, value in vars(module).items():
        short = f"{module.__name__.rpartition('.')[2]}.{name}"
        if isinstance(value, re.Pattern):
            found[short] = value
        elif isinstance(value, dict):
            kept = {key: item for key, item in value.items() if isinstance(item, re.Pattern)}
            found |= {f"{short}[{key}]": item for key, item in kept.items()}
    return found


def pattern_named(name: str) -> re.Pattern[str]:
    if name == KEY_PATTERN:
        return frontmatter._key_pattern("title")
    patterns = yaml_patterns()
    for module in MODULES:
        patterns |= module_patterns(module)
    return patterns[name]


def all_cases() -> list[tuple[str, str, list[Shape]]]:
    cases = [(name, mode, shapes) for name, (mode, shapes) in ADVERSARIAL.items()]
    return cases + [(name, "match", YAML_SHAPES) for name in sorted(yaml_patterns())]


def text(shape: Shape, units: int) -> str:
    prefix, unit, suffix = shape
    return prefix + unit * units + suffix


def spans_by_re(pattern: re.Pattern[str], subject: str, mode: str) -> list[tuple[int, int]]:
    if mode == "finditer":
        return [match.span() for match in pattern.finditer(subject)]
    match = getattr(pattern, mode)(subject)
    return [match.span()] if match else []


def test_every_pattern_in_the_content_modules_is_checked() -> None:
    """A new pattern in content, frontmatter, markup or metadata needs its inputs listed here."""
    found = {name for module in MODULES for name in module_patterns(module)}
    assert found == set(ADVERSARIAL) - {KEY_PATTERN}


CASE_NAMES = [case[0] for case in all_cases()]


@pytest.mark.parametrize(("name", "mode", "shapes"), all_cases(), ids=CASE_NAMES)
def test_pattern_work_grows_linearly(name: str, mode: str, shapes: list[Shape]) -> None:
    """On each adversarial text, twice the input costs the pattern at most 2.5 times the steps."""
    counter = StepCounter(pattern_named(name))
    growth = {}
    for shape in [*shapes, *SPACES]:
        small, _ = counter.run(text(shape, 150), mode)
        large, _ = counter.run(text(shape, 300), mode)
        growth[shape] = round(large / small, 2)
    assert {shape: ratio for shape, ratio in growth.items() if ratio > 2.5} == {}


@pytest.mark.parametrize(("name", "mode", "shapes"), all_cases(), ids=CASE_NAMES)
def test_step_model_finds_what_re_finds(name: str, mode: str, shapes: list[Shape]) -> None:
    """The counting model matches exactly the spans `re` matches, so it walks the same paths."""
    pattern = pattern_named(name)
    counter = StepCounter(pattern)
    for shape in [*shapes, *SPACES]:
        for units in (0, 1, 7):
            subject = text(shape, units)
            expected = spans_by_re(pattern, subject, mode)
            assert counter.run(subject, mode)[1] == expected, (shape, units)


def test_step_model_sees_a_quadratic_pattern() -> None:
    """The measure can fail: feedkit's old shortcode pattern quadruples its work per doubling."""
    once_used = re.compile(r"\{\{[<%]\s*(/?)\s*([\w-]+)([^}]*?)\s*[>%]\}\}")
    counter = StepCounter(once_used)
    small, _ = counter.run("{{<a" * 150, "finditer")
    large, _ = counter.run("{{<a" * 300, "finditer")
    assert large > 3.5 * small
