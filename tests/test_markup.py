"""Hostile-input tests for feedkit.content.markup, the one place untrusted review text becomes
HTML.

Every case feeds Markdown or raw HTML a reviewer (or an imported blog) could write and checks what
reaches a feed.
"""

from __future__ import annotations

import html
import re

import pytest

from feedkit.content.markup import body_warnings, clean_text, cut_words, render_body

PAGE_URL = "https://reviews.example.org/reviews/2024/vertigo/"
EVENT_ATTRIBUTE = re.compile(r"\son\w+\s*=", re.IGNORECASE)
# The characters clean_text promises to drop: C0 controls but tab, LF and CR; DEL and C1; the two
# non-characters.
FORBIDDEN = [chr(code) for code in range(0x20) if chr(code) not in "\t\n\r"] + [
    "\x7f",
    "\x85",
    "\x9f",
    "\ufffe",
    "\uffff",
]


FORBIDDEN_PATTERN = re.compile("[" + re.escape("".join(FORBIDDEN)) + "]")


def html_of(markdown: str) -> str:
    return render_body(markdown, PAGE_URL, None, 60).html


def summary_of(markdown: str, summary: str | None = None, words: int = 60) -> str:
    return render_body(markdown, PAGE_URL, summary, words).summary


# --- dangerous elements
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert('owned')</script>",
        "<SCRIPT SRC=//evil.example.com/x.js></SCRIPT>",
        "<script type='module'>alert('owned')</script>",
        "Before\n\n<script>\nalert('owned')\n</script>\n\nAfter",
        "<svg><script>alert('owned')</script></svg>",
        "<template><script>alert('owned')</script></template>",
        "<textarea><script>alert('owned')</script></textarea>",
    ],
)
def test_script_element_and_its_content_are_removed(markdown: str) -> None:
    """A <script> element disappears together with the code inside it."""
    result = html_of(markdown)
    assert "<script" not in result.lower()
    assert "alert" not in result
    assert "evil.example.com" not in result


def test_text_around_a_script_is_kept() -> None:
    """Removing a script keeps the paragraphs before and after it."""
    result = html_of("Before\n\n<script>\nalert('owned')\n</script>\n\nAfter")
    assert result.split() == ["<p>Before</p>", "<p>After</p>"]


@pytest.mark.parametrize(
    ("markdown", "secret"),
    [
        ("<style>body { background: url(evil) }</style>", "background"),
        ("<iframe src='https://evil.example.com/'>inside</iframe>", "evil.example.com"),
        ("<object data='evil.swf'>fallback</object>", "evil.swf"),
        ("<embed src='evil.swf'>", "evil.swf"),
        (
            "<form action='https://evil.example.com/'><input name='card' value='1234'></form>",
            "evil.example.com",
        ),
        ("<noscript><img src=x onerror=alert(1)></noscript>", "onerror"),
        ("<base href='https://evil.example.com/'>", "evil.example.com"),
        (
            "<meta http-equiv='refresh' content='0;url=https://evil.example.com/'>",
            "evil.example.com",
        ),
        ("<link rel='stylesheet' href='https://evil.example.com/x.css'>", "evil.example.com"),
    ],
)
def test_unsafe_elements_are_removed(markdown: str, secret: str) -> None:
    """Style, iframe, object, embed, form, input, noscript, base, meta and link elements leave no
    trace."""
    result = html_of(markdown)
    for tag in (
        "<style",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<input",
        "<noscript",
        "<base",
        "<meta",
        "<link",
    ):
        assert tag not in result.lower()
    assert secret not in result


@pytest.mark.parametrize(
    "markdown",
    [
        "<style>p { color: red }</style>Visible",
        "<iframe src='https://evil.example.com/'>fallback words</iframe>Visible",
        "<object data='evil.swf'>fallback words</object>Visible",
    ],
)
def test_content_of_unsafe_containers_is_dropped_not_shown(markdown: str) -> None:
    """The text inside style, iframe and object elements is removed, not turned into visible
    text."""
    result = html_of(markdown)
    assert "Visible" in result
    assert "color" not in result
    assert "fallback" not in result


# --- event handlers
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        '<img src="cover.jpg" onerror="alert(1)">',
        "<img src=x onerror=alert(1)>",
        '<a href="/x" onclick="alert(1)">link</a>',
        '<a href="/x" ONCLICK="alert(1)" OnMouseOver="alert(2)">link</a>',
        '<body onload="alert(1)">body text</body>',
        '<svg onload="alert(1)"><circle r="1"/></svg>',
        '<div onmouseover="alert(1)" onfocus="alert(2)" tabindex="0">hover</div>',
        "<details open ontoggle=alert(1)>toggle</details>",
        '<p onclick="alert(1)">para</p>',
    ],
)
def test_event_handler_attributes_are_removed(markdown: str) -> None:
    """No on* event attribute survives on any element."""
    result = html_of(markdown)
    assert not EVENT_ATTRIBUTE.search(result)
    assert "alert" not in result


def test_an_image_keeps_its_source_when_its_handler_is_removed() -> None:
    """Dropping onerror from an image leaves the image itself, with an absolute source."""
    assert (
        html_of('<img src="cover.jpg" onerror="alert(1)">') == f'<img src="{PAGE_URL}cover.jpg">'
    )


# --- unsafe URL schemes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "   javascript:alert(1)",
        "\tjavascript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "&#0000106avascript:alert(1)",
        "java\tscript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "java&Tab;script:alert(1)",
        "java\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "VBScript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_unsafe_href_is_removed_but_link_text_kept(url: str) -> None:
    """A link to a script, VBScript or data URL, however spelled, keeps its text and loses its
    href."""
    result = html_of(f'<a href="{url}">click</a>')
    assert result == '<p><a rel="noopener noreferrer">click</a></p>\n'


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "&#106;avascript:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/svg+xml,<svg onload=alert(1)>",
    ],
)
def test_unsafe_img_src_is_removed(url: str) -> None:
    """An image whose source is a script, VBScript or data URL keeps no src at all."""
    assert html_of(f'<img src="{url}">') == "<img>"


def test_markdown_image_with_data_url_loses_its_source() -> None:
    """A Markdown image pointing at a data: URL is rendered without a src."""
    assert html_of("![cover](data:image/png;base64,iVBORw0KGgo=)") == '<p><img alt="cover"></p>\n'


@pytest.mark.parametrize(
    "markdown",
    [
        '<blockquote cite="javascript:alert(1)">quoted</blockquote>',
        '<img srcset="javascript:alert(1) 1x">',
        '<button formaction="javascript:alert(1)">press</button>',
        '<math href="javascript:alert(1)">sum</math>',
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    ],
)
def test_script_urls_in_other_attributes_are_removed(markdown: str) -> None:
    """cite, srcset, formaction, MathML href and SVG xlink:href cannot carry a javascript: URL."""
    assert "javascript" not in html_of(markdown).lower()


def test_markdown_link_to_javascript_is_neutralised() -> None:
    """A Markdown link to javascript: becomes inert text, never an <a> element."""
    result = html_of("[x](javascript:alert(1))")
    assert "<a" not in result
    assert "href" not in result
    assert result == "<p>[x](javascript:alert(1))</p>\n"


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("[mail](mailto:editor@example.org)", "mailto:editor@example.org"),
        ("[call](tel:+441234567890)", "tel:+441234567890"),
        ("[web](https://example.org/a?b=c)", "https://example.org/a?b=c"),
    ],
)
def test_safe_schemes_are_kept(markdown: str, expected: str) -> None:
    """mailto:, tel: and https: links are kept unchanged."""
    assert f'href="{expected}"' in html_of(markdown)


# --- SVG and MathML mutation tricks
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "<svg><script>alert(1)</script></svg>",
        "<svg><style><img src=x onerror=alert(1)></style></svg>",
        "<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<math><style><img src=x onerror=alert(1)></style></math>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        "<scr<script>ipt>alert(1)</script>",
        "<<script>script>alert(1)<</script>/script>",
    ],
)
def test_svg_math_and_nesting_tricks_yield_no_script_or_handler(markdown: str) -> None:
    """Namespace confusion and nested tags never produce a script element or an event handler."""
    result = html_of(markdown)
    assert "<script" not in result.lower()
    assert "<svg" not in result.lower()
    assert "<math" not in result.lower()
    assert not EVENT_ATTRIBUTE.search(result)


# --- absolute URLs -------------------------------------------------------------------------------
# -------------------


@pytest.mark.parametrize(
    ("markdown", "attribute"),
    [
        ('<a href="/x">t</a>', 'href="https://reviews.example.org/x"'),
        ("[t](/x)", 'href="https://reviews.example.org/x"'),
        ("![i](img/a.jpg)", 'src="https://reviews.example.org/reviews/2024/vertigo/img/a.jpg"'),
        ("[t](../up)", 'href="https://reviews.example.org/reviews/2024/up"'),
        ("[n](#fn1)", 'href="https://reviews.example.org/reviews/2024/vertigo/#fn1"'),
        ('<img src="//cdn.example.org/x.png">', 'src="https://cdn.example.org/x.png"'),
        ("[t](  /spaced  )", 'href="https://reviews.example.org/spaced"'),
        ('<blockquote cite="/source">q</blockquote>', 'cite="https://reviews.example.org/source"'),
    ],
)
def test_relative_urls_become_absolute_against_the_page(markdown: str, attribute: str) -> None:
    """Root-relative, relative, parent, fragment and protocol-relative URLs resolve against the
    page URL."""
    assert attribute in html_of(markdown)


def test_footnote_links_become_absolute() -> None:
    """Footnote references and back-references point at the page itself, not at the feed reader's
    page."""
    result = html_of("Text[^1]\n\n[^1]: A note.")
    assert f'href="{PAGE_URL}#fn1"' in result
    assert f'href="{PAGE_URL}#fnref1"' in result
    assert 'href="#' not in result


def test_every_url_in_mixed_markup_is_absolute() -> None:
    """No href or src in the output is left relative."""
    markdown = (
        '[a](/a) [b](b) ![c](../c.png) <a href="#d">d</a> <img src="//cdn.example.org/e.png">'
        "\n\n[^n]\n\n[^n]: f"
    )
    values = re.findall(r'(?:href|src)="([^"]*)"', html_of(markdown))
    assert len(values) == 7
    assert all(value.startswith("https://") for value in values), values


# --- control characters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("character", FORBIDDEN, ids=[f"U+{ord(char):04X}" for char in FORBIDDEN])
def test_clean_text_strips_forbidden_character(character: str) -> None:
    """clean_text drops each XML-forbidden control or non-character and keeps the text around
    it."""
    assert clean_text(f"a{character}b") == "ab"


def test_clean_text_keeps_tab_newline_and_carriage_return() -> None:
    """Tab, line feed and carriage return are legal in XML and are kept."""
    assert clean_text("a\tb\nc\rd") == "a\tb\nc\rd"


def test_clean_text_keeps_ordinary_unicode() -> None:
    """Accents, CJK, emoji and the replacement character pass through unchanged."""
    text = "Amélie – 千と千尋 🎬 \ufffd ★½"
    assert clean_text(text) == text


def test_render_body_output_has_no_forbidden_characters() -> None:
    """No forbidden character reaches the HTML or the summary, wherever it was written."""
    hostile = "".join(FORBIDDEN)
    markdown = (
        f"# Ti{hostile}tle\n\nWo{hostile}rds [li{hostile}nk](/p{hostile}ath) "
        f"<b title='x{hostile}y'>b</b>"
    )
    body = render_body(markdown, PAGE_URL, None, 60)
    for character in FORBIDDEN:
        assert character not in body.html
        assert character not in body.summary
    assert "Title" in body.html
    assert body.summary == "Words link b"


@pytest.mark.parametrize(
    "markdown",
    [
        "<p>a&#1;b</p>",
        "<div>a&#x1b;b</div>",
        '<p title="&#1;">x</p>',
        '<img alt="&#8;" src="a.jpg">',
        "<!A>&#1",
    ],
)
def test_entity_encoded_controls_in_raw_html_are_stripped(markdown: str) -> None:
    """A control character written as a character reference inside raw HTML is not decoded into the
    output."""
    body = render_body(markdown, PAGE_URL, None, 60)
    assert not FORBIDDEN_PATTERN.search(body.html), repr(body.html)
    assert not FORBIDDEN_PATTERN.search(body.summary), repr(body.summary)


def test_forbidden_characters_in_front_matter_summary_are_stripped() -> None:
    """A front-matter summary loses its control characters too."""
    assert summary_of("Body.", "Sum\x00ma\x1bry\ufffe here") == "Summary here"


# --- comments ------------------------------------------------------------------------------------
# -------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "<!-- secret note -->visible",
        "visible <!-- secret note --> text",
        "<!--\nsecret\nnote\n-->\n\nvisible",
        "<!-- secret --!> visible",
        "visible\n\n<!-- more secret -->",
    ],
)
def test_html_comments_are_dropped(markdown: str) -> None:
    """Raw HTML comments, and the words in them, never reach the output."""
    result = html_of(markdown)
    assert "<!--" not in result
    assert "secret" not in result
    assert "visible" in result


# --- openings that nothing closes ----------------------------------------------------------------

STRAY_OPENINGS = ["<textarea>", "<style>", "<script>", "<title>", "<xmp>", "<noembed>"]
STRAY_OPENINGS += ["<noframes>", "<plaintext>", "<iframe>", "<noscript>", "<template>", "<object>"]
STRAY_OPENINGS += ["<!--"]
NEVER_CLOSED = "is never closed, so it is shown as text; close it or delete it"


STRAY_CASES = [(opening, where) for opening in STRAY_OPENINGS for where in ("block", "inline")]
STRAY_CASES.remove(("<!--", "inline"))  # Markdown reads an unclosed inline comment as text anyway


@pytest.mark.parametrize(("opening", "where"), STRAY_CASES)
def test_an_opening_nothing_closes_keeps_the_text_after_it(opening: str, where: str) -> None:
    """A raw-text tag or comment left open shows as text; the Markdown after it still renders."""
    stray = f"\n\n{opening}\n\n" if where == "block" else f" with a {opening} in it.\n\n"
    markdown = f"First{stray}The *second* paragraph."
    result = html_of(markdown)
    assert "The <em>second</em> paragraph." in result
    assert html.escape(opening, quote=False) in result
    assert body_warnings(markdown) == (f"body: {opening} {NEVER_CLOSED}",)


def test_an_unclosed_inline_comment_was_always_text() -> None:
    """In a paragraph an unclosed '<!--' is not HTML to Markdown: shown as written, no warning."""
    markdown = "First with a <!-- in it.\n\nThe *second* paragraph."
    second = "<p>The <em>second</em> paragraph.</p>\n"
    assert html_of(markdown) == "<p>First with a &lt;!-- in it.</p>\n" + second
    assert body_warnings(markdown) == ()


def test_a_stray_script_with_a_handler_stays_inert_text() -> None:
    """An unclosed script or image tag made visible is escaped text, never an element."""
    result = html_of("Look <script src=//evil.example.com/x.js> and <img src=x onerror=alert(1)>.")
    assert "<script" not in result
    assert "&lt;script src=//evil.example.com/x.js&gt;" in result
    assert "<img" in result
    assert not EVENT_ATTRIBUTE.search(result)


@pytest.mark.parametrize(
    "markdown",
    [
        "Plain words only.",
        "Intro.\n\n<!--more-->\n\nRest.",
        "Note <!-- hidden --> here.",
        "Note <!-- hidden --!> here.",
        "Empty <!--> and <!---> comments.",
        "<em>emphasis</em> and <br> are fine.",
        "Code: `<textarea>` and\n\n    <style>\n",
    ],
)
def test_bodies_that_hide_nothing_have_no_warnings(markdown: str) -> None:
    """Closed comments, the more marker, harmless tags and code that shows tags give no warning."""
    assert body_warnings(markdown) == ()


@pytest.mark.parametrize("element", ["script", "style", "textarea", "noscript", "iframe"])
def test_text_inside_a_closed_unsafe_element_is_warned_about(element: str) -> None:
    """Words the sanitizer drops with their element are named in a warning; the rest is kept."""
    markdown = f"Before.\n\n<{element}>Hidden words</{element}>\n\nAfter."
    assert "Hidden" not in html_of(markdown)
    assert "After." in html_of(markdown)
    left_out = f"the text inside <{element}> is left out of the feeds"
    hint = "delete the element or move the text out of it"
    assert body_warnings(markdown) == (f"body: {left_out}; {hint}",)


def test_more_marker_is_not_in_the_html() -> None:
    """The <!--more--> marker is removed from the rendered body while both halves stay."""
    result = html_of("Intro.\n\n<!--more-->\n\nRest.")
    assert result == "<p>Intro.</p>\n<p>Rest.</p>\n"


# --- shortcodes ----------------------------------------------------------------------------------
# -------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "{{< youtube dQw4w9WgXcQ >}}",
        '{{< youtube id="dQw4w9WgXcQ" >}}',
        "{{% youtube dQw4w9WgXcQ %}}",
        "{{<youtube dQw4w9WgXcQ>}}",
    ],
)
def test_youtube_shortcode_becomes_a_watch_link(markdown: str) -> None:
    """A Hugo youtube shortcode becomes a link to the video on youtube.com."""
    assert html_of(markdown) == (
        '<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ" rel="noopener noreferrer">Watch '
        "on Youtube</a></p>\n"
    )


def test_vimeo_shortcode_becomes_a_watch_link() -> None:
    """A Hugo vimeo shortcode becomes a link to the video on vimeo.com."""
    assert 'href="https://vimeo.com/146022717"' in html_of("{{< vimeo 146022717 >}}")


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ('{{< figure src="still.jpg" caption="A still" >}}After.', "<p>After.</p>\n"),
        ("{{< highlight go >}}kept words{{< /highlight >}}", "<p>kept words</p>\n"),
        ("{{< notice warning >}}\nBe careful.\n{{< /notice >}}", "<p>Be careful.</p>\n"),
        ("{{% aside %}}kept words{{% /aside %}}", "<p>kept words</p>\n"),
        ("{% include poster.html %}After.", "<p>After.</p>\n"),
        ("{% raw %}kept words{% endraw %}", "<p>kept words</p>\n"),
        ('[caption id="c1" align="left"]kept words[/caption]', "<p>kept words</p>\n"),
        ('[gallery ids="1,2,3"]After.', "<p>After.</p>\n"),
    ],
)
def test_other_shortcodes_vanish_but_enclosed_text_stays(markdown: str, expected: str) -> None:
    """Shortcodes other than videos disappear, and the text between a pair of them is kept."""
    assert html_of(markdown) == expected


def test_youtube_shortcode_with_script_in_arguments_is_harmless() -> None:
    """A youtube shortcode whose arguments try to break out of the URL yields no script and no
    handler."""
    result = html_of('{{< youtube "x\\" onload=alert(1) <script>alert(2)</script>" >}}')
    assert "<script" not in result
    assert not EVENT_ATTRIBUTE.search(result)


# --- summaries -----------------------------------------------------------------------------------
# -------------------


def test_front_matter_summary_wins_over_the_body() -> None:
    """When front matter gives a summary, it is used instead of any text from the body."""
    assert (
        summary_of("Body first paragraph.\n\n<!--more-->\n\nRest.", "The standfirst.")
        == "The standfirst."
    )


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("A *bold* **claim**", "A bold claim"),
        ("Some <b>tagged</b> <i>words</i>", "Some tagged words"),
        ("Fish &amp; chips &eacute;t&eacute; &lt;3 &#8212; fine", "Fish & chips été <3 — fine"),
        ("A [link](https://example.org/) here", "A link here"),
        ("Code `x < y` here", "Code x < y here"),
        ("Spread\n  over\tlines", "Spread over lines"),
        ("Before<script>alert(1)</script>after", "Beforeafter"),
        ("Tom & Jerry < Itchy > Scratchy", "Tom & Jerry < Itchy > Scratchy"),
        ("<img src=x onerror=alert(1)>Picture", "Picture"),
    ],
)
def test_front_matter_summary_is_plain_text(summary: str, expected: str) -> None:
    """A front-matter summary loses Markdown emphasis and HTML tags, and has entities decoded, on
    one line."""
    assert summary_of("Ignored body.", summary) == expected


def test_summary_is_text_before_more_marker() -> None:
    """Without a front-matter summary, every paragraph before <!--more--> makes the summary."""
    markdown = "Intro *one*.\n\nIntro two.\n\n<!--more-->\n\nAfter the fold."
    assert summary_of(markdown) == "Intro one. Intro two."


def test_more_marker_is_case_and_space_insensitive() -> None:
    """<!-- MORE --> with spaces also marks the end of the summary."""
    assert summary_of("Above.\n\n  <!-- MORE -->  \n\nBelow.") == "Above."


def test_summary_is_first_paragraph_without_more_marker() -> None:
    """Without a summary or a marker, the first paragraph is the summary."""
    assert summary_of("First *para*graph.\n\nSecond paragraph.") == "First paragraph."


def test_summary_skips_headings_and_images() -> None:
    """Headings and image-only paragraphs are skipped when choosing the first paragraph."""
    markdown = (
        "# Vertigo (1958)\n\n![Poster](poster.jpg)\n\n## Verdict\n\n"
        "A dizzying *masterpiece*.\n\nMore."
    )
    assert summary_of(markdown) == "A dizzying masterpiece."


def test_summary_from_body_has_no_markup_or_script() -> None:
    """A summary taken from the body is plain text, with entities decoded and scripts gone."""
    markdown = "<script>alert(1)</script>\n\nFish &amp; <b>chips</b> <span onclick='x'>now</span>."
    assert summary_of(markdown) == "Fish & chips now."


def test_summary_is_cut_at_the_word_limit() -> None:
    """A long summary is cut at the configured number of words and ends in an ellipsis."""
    assert summary_of("one two three four five six", words=4) == "one two three four…"


# --- cut_words -----------------------------------------------------------------------------------
# -------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("one two three", 3, "one two three"),
        ("one two three", 10, "one two three"),
        ("", 3, ""),
        ("  one   two  ", 2, "one two"),
        ("one two three four", 3, "one two three…"),
        ("one two, three", 2, "one two…"),
        ("one two. three", 2, "one two…"),
        ("one two — three", 2, "one two…"),
        ("ends in a full stop.", 5, "ends in a full stop."),
    ],
)
def test_cut_words_adds_ellipsis_only_when_cutting(text: str, limit: int, expected: str) -> None:
    """cut_words keeps at most `limit` words, adding '…' only when words were dropped."""
    assert cut_words(text, limit) == expected
