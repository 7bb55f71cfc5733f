"""Property tests: any text a reviewer can write yields well-formed feeds and safe HTML.

Hypothesis generates the text; feedparser and json judge the feeds, html.parser judges the HTML.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import nh3
import yaml
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from feedkit.config import load_config
from feedkit.content.markup import clean_text, render_body
from feedkit.pipeline import build
from tests.conftest import write_site

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # well after the review's date, so it is published
PAGE_URL = "https://reviews.example.org/reviews/2024/vertigo/"
EVENT_ATTRIBUTE = re.compile(r"\son\w+\s*=", re.IGNORECASE)
# Attributes whose value is prose for a reader, never fetched or followed.
TEXT_ATTRIBUTES = frozenset({"alt", "title", "abbr", "summary"})
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")
# Characters XML 1.0 forbids (surrogates aside, which st.text() never generates).
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

MARKUP_PIECES = [
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&#0;",
    "&#x1F;",
    "&bogus;",
    '"',
    "'",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "<!--more-->",
    "\n<!--more-->\n",
    "</title>",
    "</entry>",
    "<?xml ?>",
    "\x00",
    "\x0b",
    "\x1f",
    "\x7f",
    "\x85",
    "\ufffe",
    "\uffff",
    "\r",
    "\r\n",
    "\u2028",
    "\ufeff",
    "\n---\n",
    "\n+++\n",
    "*",
    "_",
    "`",
    "[",
    "](",
    ")",
    "# ",
    "\n\n",
    "    ",
    "{{< youtube abcdefg >}}",
    "{{< x >}}",
    "{% y %}",
    "[caption]",
    "\\",
]
HOSTILE_PIECES = [
    "<script>",
    "</script>",
    "<SCRIPT>",
    "<scr",
    "ipt>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<math>",
    "<style>",
    "<iframe>",
    '<a href="',
    "<a href='",
    '<img src="',
    '">',
    "'>",
    "</a>",
    "javascript:",
    "JaVaScRiPt:",
    "&#106;avascript:",
    "java\tscript:",
    "vbscript:",
    "data:text/html,",
    " onclick=",
    " onload=",
    "onerror",
    "=",
    "alert(1)",
    "[x](",
    "![x](",
    ' "title")',
    "<!--",
    "-->",
    "<noscript>",
    "<template>",
    '{{< youtube "',
    '" >}}',
    "<",
    ">",
    "&",
    "\x00",
    "\t",
    "\n",
    " ",
]

# Raw HTML blocks and attributes holding numeric references to characters XML forbids.
CHARACTER_REFERENCE_PIECES = [
    "<p>",
    "<div>",
    "<b>",
    "<!A>",
    '<p title="',
    '<img alt="',
    '" src=a.jpg>',
    '">',
    "&#1;",
    "&#x1b;",
    "&#8",
    "&#0;",
    "&#xFFFE;",
    "&#127;",
    "x",
]


def mixed_text(pieces: list[str]) -> st.SearchStrategy[str]:
    """Any text (no surrogates: they cannot be UTF-8 encoded), interleaved with markup-looking
    pieces."""
    return st.lists(st.one_of(st.text(), st.sampled_from(pieces)), max_size=8).map("".join)


field_text = mixed_text(MARKUP_PIECES)


def review_file(title: str, summary: str, author: str, category: str, body: str) -> bytes:
    front_matter = {
        "title": title,
        "date": "2024-02-28",
        "summary": summary,
        "author": author,
        "categories": [category],
    }
    dumped = yaml.safe_dump(front_matter, sort_keys=False)
    return f"---\n{dumped}---\n{body}".encode()


def collapsed(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=60, deadline=None)
@given(
    title=field_text, summary=field_text, author=field_text, category=field_text, body=field_text
)
@example(
    title="Vertigo", summary="", author="", category="", body="<p>a&#1;b</p>"
)  # a control as a reference
def test_any_text_yields_well_formed_feeds(
    title: str, summary: str, author: str, category: str, body: str
) -> None:
    """Whatever text is in title, summary, author, category and body, each main feed parses cleanly
    with one entry."""
    assume(
        collapsed(clean_text(title))
    )  # a title of nothing but controls is "no title": see below
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = load_config(
            write_site(root, {"review.md": review_file(title, summary, author, category, body)})
        )
        report = build(config, now=NOW)
        assert report.published == 1, report.problems
        public = root / "public"
        for name in ("feed.xml", "atom.xml"):
            parsed = feedparser.parse((public / name).read_bytes())
            assert not parsed.bozo, f"{name}: {parsed.get('bozo_exception')!r}"
            assert len(parsed.entries) == 1, name
        feed = json.loads((public / "feed.json").read_text(encoding="utf-8"))
        assert len(feed["items"]) == 1
        assert feed["items"][0]["title"] == collapsed(clean_text(title))


def test_title_of_control_characters_only_is_reported_not_built() -> None:
    """A title that is nothing but control characters is 'no title': skipped with a problem, never
    a crash."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = load_config(
            write_site(root, {"review.md": review_file("\x1b\x08", "", "", "", "")})
        )
        report = build(config, now=NOW)
        assert report.published == 0
        assert [str(problem) for problem in report.problems] == [
            "content/review.md:2: has no title; add a line 'title: ...' to the front matter"
        ]


class _Tags(HTMLParser):
    """Collects every start tag: its name, its attributes (decoded) and its raw text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs, self.get_starttag_text() or ""))

    handle_startendtag = handle_starttag


def start_tags(fragment: str) -> list[tuple[str, list[tuple[str, str | None]], str]]:
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    return parser.tags


@settings(max_examples=200, deadline=None)
@given(markdown=mixed_text(HOSTILE_PIECES))
def test_render_body_never_emits_script_or_event_handlers(markdown: str) -> None:
    """For any input, the HTML has no <script, no on* event attribute, and no javascript: (or other
    unsafe) URL.

    Text nodes are escaped, so words such as 'javascript:' or ' onclick=' may appear there as inert
    prose;
    the attribute checks therefore look inside tags, where such strings would run.
    """
    html = render_body(markdown, PAGE_URL, None, 60).html
    assert "<script" not in html.lower()
    for tag, attributes, raw in start_tags(html):
        assert tag != "script"
        outside_values = re.sub(
            r'"[^"]*"', '""', raw
        )  # the serializer always double-quotes attribute values
        assert not EVENT_ATTRIBUTE.search(outside_values), raw
        for name, value in attributes:
            assert not re.fullmatch(r"on\w+", name), raw
            if name in TEXT_ATTRIBUTES or value is None:
                continue
            squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
            assert not squeezed.startswith(UNSAFE_SCHEMES), raw
            if name in URL_ATTRIBUTES:
                assert urlsplit(value).scheme in SAFE_SCHEMES, raw


@settings(max_examples=200, deadline=None)
@given(
    markdown=st.lists(st.sampled_from(CHARACTER_REFERENCE_PIECES) | field_text, max_size=10).map(
        "".join
    )
)
@example(markdown="<p>a&#1;b</p>")
@example(markdown='<p title="&#x1b;">x</p>')
def test_render_body_never_emits_characters_xml_forbids(markdown: str) -> None:
    """For any input, neither the HTML nor the summary contains a character that XML 1.0
    forbids."""
    body = render_body(markdown, PAGE_URL, None, 60)
    assert not XML_FORBIDDEN.search(body.html), repr(body.html)
    assert not XML_FORBIDDEN.search(body.summary), repr(body.summary)


STRAY_OPENINGS = ["<textarea>", "<style>", "<script>", "<title>", "<xmp>", "<noembed>"]
STRAY_OPENINGS += ["<plaintext>", "<iframe>", "<noscript>", "<template>", "<object>", "<!--"]
STRAY_OPENINGS += ["<noframes>", "<SCRIPT>"]
WORD = st.from_regex(r"[a-z]{3,9}", fullmatch=True)
GLUE = st.sampled_from([" ", "\n", "\n\n", "\n\n> ", "\n\n- ", " *", "* "])


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(WORD | st.sampled_from(STRAY_OPENINGS), min_size=1, max_size=12), glue=GLUE)
def test_words_around_unclosed_openings_all_reach_the_feed(pieces: list[str], glue: str) -> None:
    """However many raw-text tags or comments are left open, every word around them is shown."""
    rendered = render_body(glue.join(pieces), PAGE_URL, None, 60).html
    shown = html.unescape(nh3.clean(rendered, tags=set()))
    for word in (piece for piece in pieces if piece.isalpha()):
        assert word in shown, (pieces, rendered)
