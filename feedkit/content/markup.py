"""Markdown to safe HTML with absolute URLs, and plain-text summaries: the security boundary.

Everything a review's author wrote passes through here before it reaches a feed or an email.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock

MORE_MARKER = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE | re.IGNORECASE)
# Characters XML 1.0 forbids, plus C1 controls and DEL, which no reader shows sensibly.
_FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
UNSAFE_CONTENT_TAGS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "noscript",
    "template",
    "textarea",
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
SAFE_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """A review body ready for a feed or an email."""

    html: str  # sanitized, every URL absolute
    summary: str  # plain text, at most the configured number of words


def clean_text(text: str) -> str:
    """Drop characters that XML forbids, so any field can go into a feed."""
    return _FORBIDDEN_CHARACTERS.sub("", text)


def render_body(
    markdown: str, page_url: str, summary: str | None, summary_words: int
) -> RenderedBody:
    """Render a review's Markdown body to sanitized HTML and pick its plain-text summary.

    The summary is the front-matter one if given, else the text before `<!--more-->`,
    else the first paragraph; either way cut at `summary_words` words.
    """
    source = strip_shortcodes(clean_text(markdown))
    body_html = sanitize_html(_html_of(MORE_MARKER.sub("", source)).html, page_url)
    if summary:
        summary_text = plain_text(summary)
    else:
        parts = MORE_MARKER.split(source, maxsplit=1)
        summary_text = _paragraph_text(parts[0], all_paragraphs=len(parts) > 1)
    return RenderedBody(body_html, cut_words(summary_text, summary_words))


def body_warnings(markdown: str) -> tuple[str, ...]:
    """Notes for the editor: openings nothing closes, and text the sanitizer drops from the body.

    Found by rendering exactly as `render_body` does; a body without the HTML that could hide
    text, which is most of them, is only scanned.
    """
    source = strip_shortcodes(clean_text(markdown))  # either may join the pieces of a tag
    if not _MAY_HIDE_TEXT.search(source):
        return ()
    rendered = _html_of(MORE_MARKER.sub("", source))
    shown_as_text = "is never closed, so it is shown as text; close it or delete it"
    notes = [f"body: {opening} {shown_as_text}" for opening in rendered.unclosed]
    if _words(rendered.html) != _words(sanitize_html(rendered.html, "https://example.invalid/")):
        notes.append(_dropped_text_note(rendered.html))
    return tuple(notes)


def _words(fragment: str) -> list[str]:
    """Every word of a fragment's text, the contents of <script> and <style> included."""
    everything = nh3.clean(fragment, tags=set(), clean_content_tags=set(), attributes={})
    return _collapse(everything).split()


def _dropped_text_note(raw_html: str) -> str:
    where = "some text"
    for match in _SWALLOWING_TAG.finditer(raw_html):
        if _is_opening(match) and match["name"]:
            where = f"the text inside <{match['name'].lower()}>"
            break
    return f"body: {where} is left out of the feeds; delete the element or move the text out of it"


def sanitize_html(raw_html: str, page_url: str) -> str:
    """Remove scripts, styles, event handlers and unsafe URLs; make every URL absolute."""
    cleaned = nh3.clean(
        raw_html,
        clean_content_tags=UNSAFE_CONTENT_TAGS,
        attribute_filter=_absolute_url_filter(page_url),
        url_schemes=set(SAFE_URL_SCHEMES),
        link_rel="noopener noreferrer",
    )
    # After, not before: the sanitizer turns a reference such as '&#1;' into the character itself.
    return clean_text(cleaned)


def _absolute_url_filter(page_url: str) -> Callable[[str, str, str], str | None]:
    def absolute(_element: str, attribute: str, value: str) -> str | None:
        if attribute not in URL_ATTRIBUTES:
            return value
        return absolute_url(page_url, value)

    return absolute


def absolute_url(base: str, reference: str) -> str | None:
    """Resolve a link against the page it appears on; None for a scheme that is not safe."""
    resolved = urljoin(base, reference.strip())
    scheme = urlsplit(resolved).scheme.lower()
    return resolved if scheme in SAFE_URL_SCHEMES else None


def plain_text(text: str) -> str:
    """Inline Markdown or HTML reduced to the words a reader sees, on one line."""
    return _text_of(_markdown().renderInline(clean_text(text)))


def cut_words(text: str, limit: int) -> str:
    """At most `limit` words; a cut text ends in an ellipsis."""
    words = text.split()
    if len(words) <= limit:
        return " ".join(words)
    return " ".join(words[:limit]).rstrip(",;:.-–—") + "…"


# A paragraph's content stops at the next <p> or </p>, so an unclosed <p> cannot make a search
# from every later <p> run to the end of the text.
_PARAGRAPH = re.compile(r"<p>([^<]*(?:<(?!/?p>)[^<]*)*)</p>")


def _paragraph_text(markdown: str, *, all_paragraphs: bool) -> str:
    """The words of the first paragraph (or of all of them), as a reader would see them."""
    only_paragraphs = nh3.clean(
        _html_of(markdown).html, tags={"p"}, clean_content_tags=UNSAFE_CONTENT_TAGS, attributes={}
    )
    texts = (_text_of(match[1]) for match in _PARAGRAPH.finditer(only_paragraphs))
    paragraphs = [text for text in texts if text]
    return " ".join(paragraphs if all_paragraphs else paragraphs[:1])


def _text_of(fragment: str) -> str:
    return _collapse(
        nh3.clean(fragment, tags=set(), clean_content_tags=UNSAFE_CONTENT_TAGS, attributes={})
    )


def _collapse(text: str) -> str:
    return " ".join(clean_text(html.unescape(text)).split())


# Shortcodes from Hugo ({{< name args >}}), Jekyll/Liquid ({% tag %}) and WordPress ([caption]...)
# survive imports from other blog engines; they mean nothing to a feed reader.
# Each match stops at the next opening brace or bracket, so a shortcode that is never closed cannot
# make every later one scan to the end of the body; no two adjacent repeats can share a character.
_HUGO_SHORTCODE = re.compile(r"\{\{[<%]\s*(/\s*)?([\w-]++)([^{}]*?)[>%]\}\}")
_VIDEO_ID = re.compile(r"(?:id=)?[\"']?([\w-]{5,})")
_LIQUID_TAG = re.compile(r"\{%-?\s*\w[^%]*%\}")
_WORDPRESS_NAMES = "caption|embed|gallery|video|audio|playlist"
_WORDPRESS_SHORTCODE = re.compile(rf"\[/?(?:{_WORDPRESS_NAMES})\b[^\[\]]*\]")
_VIDEO_LINKS = {"youtube": "https://www.youtube.com/watch?v={}", "vimeo": "https://vimeo.com/{}"}


def strip_shortcodes(markdown: str) -> str:
    """Turn video shortcodes into links and drop every other shortcode, keeping enclosed text."""
    text = _HUGO_SHORTCODE.sub(_replace_hugo_shortcode, markdown)
    text = _LIQUID_TAG.sub("", text)
    return _WORDPRESS_SHORTCODE.sub("", text)


def _replace_hugo_shortcode(match: re.Match[str]) -> str:
    closing, name, arguments = match[1], match[2].lower(), match[3]
    video_id = _VIDEO_ID.search(arguments)
    if not closing and name in _VIDEO_LINKS and video_id:
        url = _VIDEO_LINKS[name].format(video_id[1])
        return f"[Watch on {name.capitalize()}]({url})"
    return ""


# Elements the HTML parser reads as text up to their own end tag (<plaintext>: to the end), and
# those the sanitizer drops whole: one left open hides everything after it, as does a comment.
_RAW_TEXT = "script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext"
_SWALLOWING = f"{_RAW_TEXT}|template|object"
_SWALLOWING_TAG = re.compile(
    rf"<(?P<end>/?)(?P<name>{_SWALLOWING})(?=[\s/>])"
    r"|(?P<comment><!--(?!-?>))"  # '<!-->' and '<!--->' are whole (empty) comments
    r"|(?P<comment_end>--!?>)",  # '--!>' ends a comment too
    re.IGNORECASE,
)
_COMMENT_END = re.compile(r"--!?>")
# Only a body with one of these can hide text; `<!--more-->` is the summary marker, not a comment.
_MAY_HIDE_TEXT = re.compile(
    rf"<(?:[?!](?!--\s*more\s*-->)|/?(?:{_SWALLOWING}|embed)\b)",
    re.IGNORECASE,
)
_DECLINED_BLOCKS = "feedkit_declined_blocks"  # markdown-it env keys: what the block rule declined,
_LAST_CLOSES = "feedkit_last_closes"  # and where each kind of HTML block last closes


@dataclass(frozen=True, slots=True)
class _RenderedHtml:
    """markdown-it's HTML, before sanitizing, with every opening nothing closes escaped."""

    html: str
    unclosed: tuple[str, ...]  # those openings as written, e.g. "<textarea>", "<!--"


def _html_of(source: str) -> _RenderedHtml:
    env: dict[str, Any] = {}
    rendered = _markdown().render(source, env)
    escaped, unclosed = _escape_unclosed(rendered)
    declined = env.get(_DECLINED_BLOCKS, [])
    return _RenderedHtml(escaped, tuple(dict.fromkeys([*declined, *unclosed])))


def _escape_unclosed(raw_html: str) -> tuple[str, list[str]]:
    """Escape each opening of a swallowing element or comment that nothing after it closes."""
    matches = list(_SWALLOWING_TAG.finditer(raw_html))
    closings = (match for match in matches if match["end"] or match["comment_end"])
    last_close = {_kind(match): match.start() for match in closings}
    openings = (match for match in matches if _is_opening(match))
    stray = [match for match in openings if last_close.get(_kind(match), -1) < match.start()]
    pieces, start = [], 0
    for match in stray:
        pieces += [raw_html[start : match.start()], "&lt;"]
        start = match.start() + 1
    names = [match[0] if match["comment"] else f"<{match['name'].lower()}>" for match in stray]
    return "".join([*pieces, raw_html[start:]]), names


def _is_opening(match: re.Match[str]) -> bool:
    return bool(match["comment"] or (match["name"] and not match["end"]))


def _kind(match: re.Match[str]) -> str:
    """Which openings a match opens or closes; nothing closes <plaintext>, not even its end tag."""
    if match["name"] is None:
        return "comment"
    name = match["name"].lower()
    return "</plaintext>" if name == "plaintext" and match["end"] else name


def _html_block_unless_unclosed(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's raw HTML block, except one whose closing sequence never comes.

    Such a block would take the rest of the body as raw HTML, its Markdown unread; declined, its
    first line is read as a paragraph, and `_escape_unclosed` escapes its tag.
    """
    from markdown_it.rules_block.html_block import HTML_SEQUENCES, html_block  # noqa: PLC0415

    position = state.bMarks[start] + state.tShift[start]
    line = state.src[position : state.eMarks[start]]
    # The first five kinds end at a closing sequence, not at a blank line.
    for kind, (opening, closing, _) in enumerate(HTML_SEQUENCES[:5]):
        opened = opening.search(line)
        if opened is None:
            continue
        if _last_close(state, kind, _COMMENT_END if kind == 1 else closing) > position:
            break
        written = f"{opened[0].lower()}>" if kind == 0 else opened[0]
        state.env.setdefault(_DECLINED_BLOCKS, []).append(written)
        return False
    return html_block(state, start, end, silent)


def _last_close(state: StateBlock, kind: int, closing: re.Pattern[str]) -> int:
    """Where this kind of block last closes in the whole source; found once per render."""
    last_closes: dict[int, int] = state.env.setdefault(_LAST_CLOSES, {})
    if kind not in last_closes:
        ends = (match.start() for match in closing.finditer(state.src))
        last_closes[kind] = max(ends, default=-1)
    return last_closes[kind]


@functools.cache
def _markdown() -> MarkdownIt:
    """One parser for the process: CommonMark plus tables, strikethrough and footnotes."""
    # Imported on first use: most builds render no Markdown at all.
    from markdown_it import MarkdownIt  # noqa: PLC0415
    from mdit_py_plugins.footnote import footnote_plugin  # noqa: PLC0415

    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    may_interrupt = ["paragraph", "reference", "blockquote"]  # as markdown-it itself sets them
    parser.block.ruler.at("html_block", _html_block_unless_unclosed, {"alt": may_interrupt})
    return parser.use(footnote_plugin)
