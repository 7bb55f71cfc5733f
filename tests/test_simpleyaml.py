"""The quick front-matter reader may decline any text, but must never disagree with PyYAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from feedkit.content import simpleyaml
from feedkit.content.frontmatter import FENCES

ROOT = Path(__file__).parent.parent


def pyyaml(text: str) -> object:
    return yaml.load(text, Loader=yaml.CSafeLoader)


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
    ],
)
def test_known_shapes_agree_or_decline(text: str) -> None:
    """On each tricky shape the quick reader gives PyYAML's answer, or declines."""
    try:
        expected = pyyaml(text)
    except (yaml.YAMLError, ValueError):
        expected = "error"
    quick: object
    try:
        quick = simpleyaml.load(text)
    except ValueError:
        quick = "error"
    assert quick is None or quick == expected, (quick, expected)


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
def test_long_runs_of_blanks_agree_or_decline(text: str) -> None:
    """Values with long runs of blanks (once quadratic for the quick reader) read as in PyYAML."""
    quick = simpleyaml.load(text)
    assert quick is None or quick == pyyaml(text)


def test_plain_front_matter_is_read_quickly() -> None:
    """The shapes real reviews use are accepted, not declined."""
    text = (
        "title: Vertigo in 70mm\ndate: 2025-03-14\nauthor: Sam Critic\nsummary: Hitchcock's "
        "spiral.\n"
        "categories: [Cinema, Blu-ray]\ntags:\n  - noir\nrating: 4.5\ndraft: false\n"
    )
    assert simpleyaml.load(text) == pyyaml(text)


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
        quick = simpleyaml.load(inner)
        assert quick is None or quick == pyyaml(inner), path
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
def test_random_front_matter_agrees_or_declines(lines: list[str]) -> None:
    """On generated front matter, the quick reader agrees with PyYAML whenever it answers."""
    text = "\n".join(lines) + "\n"
    try:
        expected: object = pyyaml(text)
    except (yaml.YAMLError, ValueError):
        expected = "error"
    try:
        quick: object = simpleyaml.load(text)
    except ValueError:
        quick = "error"
    if quick is not None:
        assert quick == (expected if expected is not None else {}), (text, quick, expected)
