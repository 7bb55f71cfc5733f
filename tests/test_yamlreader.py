"""The front-matter YAML reader gives exactly what PyYAML's safe loader gives, except that it
refuses aliases and deep nesting: on every tricky shape, every corpus style and random text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from feedkit.content import yamlreader
from feedkit.content.frontmatter import FENCES
from feedkit.content.yamlreader import RefusedYamlError, load_yaml

ROOT = Path(__file__).parent.parent


def pyyaml(text: str) -> object:
    """PyYAML's safe loader on libyaml's parser, as feedkit reads with (libyaml accepts a few
    things PyYAML's own scanner does not, such as a tab after 'key:')."""
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    return yaml.load(text, Loader=loader)  # noqa: S506 - both are safe loaders


def outcome(read: object, text: str) -> object:
    """What a reader makes of the text: its value, or "error" for an error PyYAML would raise,
    or "refused" for an alias or deep nesting."""
    try:
        return read(text)  # type: ignore[operator]
    except RefusedYamlError:
        return "refused"
    except (yaml.YAMLError, ValueError):
        return "error"


def agrees(text: str) -> None:
    ours, theirs = outcome(load_yaml, text), outcome(pyyaml, text)
    if ours == "refused":
        assert "*" in text or "[" * 32 in text or "  " * 32 in text, text
        return
    assert ours == theirs, (text, ours, theirs)


@pytest.mark.parametrize(
    "text",
    [
        "title: Vertigo\ndate: 2025-03-14\n",
        "date: 2025-03-14 19:30:00\nupdated: 2025-03-14T19:30:00+01:00\n",
        "date: 2025-03-14 19:30\n",  # no seconds: a string in YAML
        "draft: yes\nlive: off\nflag: True\nother: No\n",
        "nothing: ~\nempty:\nalso: null\n",
        "rating: 4\nscore: 4.5\nneg: -3\nplus: +2\n",
        "title: 'It''s here'\n",
        'title: "Tom & Jerry"  # a comment\n',
        "title: Tom & Jerry # a comment\n",
        "tags: [noir, restoration, 4K UHD]\nempty: []\ntrailing: [a, b,]\n",
        "categories:\n- Cinema\n- Blu-ray\n",
        "categories:\n  - Cinema\n  - 4.5\n",
        "author:\n  name: Jane Doe\n  email: jane@example.org\n  bio: 'Writes: a lot'\n",
        "title: Vertigo\n\n# a comment line\nslug: vertigo\n",
        "Title: Capital\nTITLE: Shouting\n",
        "title: x\ntitle: y\n",
        "title: 1917\nyear: 0\n",
        "time: 1:30\n",  # base 60 in YAML 1.1
        "n: 012\n",  # octal in YAML 1.1
        "n: 1_000\n",
        "n: 1e3\n",
        "n: .5\n",
        "n: 0x1F\n",
        "title: a: b\n",
        "title: >\n  folded\n",
        "title: |\n  literal\n",
        'title: "escaped \\n line"\n',
        "title: &anchor x\nother: *anchor\n",
        "title: !!str 123\n",
        "list: [a, [b]]\n",
        "map: {a: 1}\n",
        "title: @at\n",
        "title:\tx\n",
        "author:\n  name: A\n    deeper: B\n",
        "- a list\n- at the top\n",
        "date: 2025-02-30\n",
        "<<: {a: 1}\nb: 2\n",  # a merge key: PyYAML's loader merges it
        "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\n",
        "? [a]\n: b\n",  # a list as a key: unhashable
        "title: x\n---\ntitle: y\n",  # two documents
        "title: x\n...\n",
        "a: &x 1\nb: &x 2\n",  # one anchor set twice
        "a: !!binary aGVsbG8=\n",
        "a: !custom x\n",
        "a: !!int '12'\nb: !!float 1\n",
        "a: 2025-03-14t19:30:00.5 -05:00\nb: 2015-05-16 06:46:03 -0500\n",
        "",
        "# only a comment\n",
    ],
)
def test_known_shapes_agree(text: str) -> None:
    """On each tricky shape the reader gives PyYAML's answer (or PyYAML's error)."""
    agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        "title: x" + " " * 20_000 + "y\n",
        "title: x" + " " * 20_000 + "\n",
        "title: x" + " \t" * 5_000 + "# a comment\n",
        "tags:\n- x" + " " * 20_000 + "y\n",
        "author:\n  name: x" + " " * 20_000 + "y\n",
        "tags: [a, b]" + " " * 20_000 + "# c\n",
        "title: 'quoted'" + " " * 20_000 + "# c\n",
    ],
)
def test_long_runs_of_blanks_agree(text: str) -> None:
    """Values with long runs of blanks read as in PyYAML."""
    agrees(text)


def test_sample_reviews_agree() -> None:
    """Every YAML front matter in the example site and the golden corpus reads the same both
    ways."""
    checked = 0
    for path in [*ROOT.glob("content/**/*.md"), *ROOT.glob("tests/golden/site/content/*.md")]:
        text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        lines = text.split("\n")
        if FENCES.get(lines[0].strip()) != "yaml":
            continue
        inner = "\n".join(lines[1 : lines.index("---", 1)])
        assert load_yaml(inner) == pyyaml(inner), path
        checked += 1
    assert checked >= 8


KEYS = st.sampled_from(
    ["title", "date", "tags", "rating", "draft", "Title", "summary", "x-y", "a_b"]
)
WORDS = st.sampled_from(
    [
        "Vertigo",
        "yes",
        "No",
        "on",
        "null",
        "~",
        "12",
        "012",
        "1.5",
        "-3",
        "1e3",
        "0x1F",
        "1:30",
        "2025-03-14",
        "2025-03-14 19:30:00",
        "2025-02-30",
        "a b",
        "Tom & Jerry",
        "#x",
        "a #b",
        "a: b",
        "[x]",
        "'q'",
        '"q"',
        "é",
        "true",
        "",
        "-",
        "?",
        "*a",
        "&a",
        "!t",
        "x,y",
        ".inf",
        "<<",
        "=",
    ]
)
LINE = st.one_of(
    st.builds(lambda k, w: f"{k}: {w}", KEYS, WORDS),
    st.builds(lambda k, ws: f"{k}: [{', '.join(ws)}]", KEYS, st.lists(WORDS, max_size=3)),
    st.builds(
        lambda k, ws: f"{k}:\n" + "".join(f"  - {w}\n" for w in ws).rstrip("\n"),
        KEYS,
        st.lists(WORDS, max_size=3),
    ),
    st.builds(lambda k, w: f"{k}:\n  name: {w}\n  email: {w}", KEYS, WORDS),
    st.just("# comment"),
    st.just(""),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE, max_size=6))
def test_random_front_matter_agrees(lines: list[str]) -> None:
    """On generated front matter, the reader agrees with PyYAML."""
    agrees("\n".join(lines) + "\n")


# Front matter as each kind of site writes it (the benchmark corpora's styles).
STYLES = {
    "hugo": (
        'title: "The Bitter Garden 4K UHD review"\ndate: 2018-12-05T14:45:42.589644-06:00\n'
        'draft: true\nauthor: "Priya Raman"\ndescription: "A close-up; every one."\n'
        'tags: ["limited edition", "Technicolor"]\ncategories: ["Unboxing"]\nrating: 5.0\n'
    ),
    "jekyll": (
        "layout: post\ntitle: The Wild Stranger on Blu-ray\ndate: 2026-03-12 22:45:56 -0500\n"
        "author: Priya Raman\ncategories: [4K UHD]\ntags: horror limited-edition\nrating: 0.5\n"
    ),
    "block lists": (
        "title: The Painted Harbour\ndate: 2019-12-10 19:45:59\nauthors:\n"
        "  - name: Tomasz Wren\n    email: tomasz@example.org\n  - name: Femi Adeyemi\n"
        "summary: >-\n  The Painted Harbour, as the best films\n  of the period do.\n"
        "categories:\n  - Blu-ray\ntags:\n  - musical\n  - region free\nrating: 4.5\n"
    ),
    "wordpress": (
        "title: 'The Painted Harbour: it''s \"a revelation\"'\ndate: '2019-12-10 19:45:09'\n"
        'status: publish\nexcerpt: "The Painted Harbour &#8211; more&#8230;"\n'
        "categories:\n- Blu-ray\ntags:\n- musical\nrating: '4.5'\n"
    ),
    "feedkit": (
        'title: "The Painted Harbour"\ndate: 2019-12-10 19:45\nauthor:\n  name: Tomasz Wren\n'
        '  email: tomasz@example.org\nsummary: "Frames it."\ncategories:\n  - "Blu-ray"\n'
        "rating: 4.5\ndraft: false\n"
    ),
}


@pytest.mark.parametrize("style", STYLES)
def test_every_style_takes_the_quick_way(style: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Front matter as real sites write it is read from libyaml's events, never handed on to
    PyYAML's slower loader, and reads as PyYAML reads it."""
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml here")
    monkeypatch.setattr(yamlreader, "fallback_loader", lambda: pytest.fail("handed on"))
    assert load_yaml(STYLES[style]) == pyyaml(STYLES[style])
