"""Markdown to safe HTML with absolute URLs, and plain-text summaries: the security boundary.

Everything a review's author wrote passes through here before it reaches a feed or an email.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

MORE_MARKER = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE | re.IGNORECASE)
# Characters XML 1.0 forbids, plus C1 controls and DEL, which no reader shows sensibly.
_FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
UNSAFE_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea"}
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


def render_body(markdown: str, page_url: str, summary: str | None, summary_words: int) -> RenderedBody:
    """Render a review's Markdown body to sanitized HTML and pick its plain-text summary.

    The summary is the front-matter one if given, else the text before `<!--more-->`,
    else the first paragraph; either way cut at `summary_words` words.
    """
    source = strip_shortcodes(clean_text(markdown))
    body_html = sanitize_html(_markdown().render(MORE_MARKER.sub("", source)), page_url)
    if summary:
        summary_text = plain_text(summary)
    else:
        parts = MORE_MARKER.split(source, maxsplit=1)
        summary_text = _paragraph_text(parts[0], all_paragraphs=len(parts) > 1)
    return RenderedBody(body_html, cut_words(summary_text, summary_words))


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


_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)


def _paragraph_text(markdown: str, *, all_paragraphs: bool) -> str:
    """The words of the first paragraph (or of all of them), as a reader would see them."""
    only_paragraphs = nh3.clean(
        _markdown().render(markdown), tags={"p"}, clean_content_tags=UNSAFE_CONTENT_TAGS, attributes={}
    )
    texts = (_text_of(match[1]) for match in _PARAGRAPH.finditer(only_paragraphs))
    paragraphs = [text for text in texts if text]
    return " ".join(paragraphs if all_paragraphs else paragraphs[:1])


def _text_of(fragment: str) -> str:
    return _collapse(nh3.clean(fragment, tags=set(), clean_content_tags=UNSAFE_CONTENT_TAGS, attributes={}))


def _collapse(text: str) -> str:
    return " ".join(clean_text(html.unescape(text)).split())


# Shortcodes from Hugo ({{< name args >}}), Jekyll/Liquid ({% tag %}) and WordPress ([caption]...)
# survive imports from other blog engines; they mean nothing to a feed reader.
_HUGO_SHORTCODE = re.compile(r"\{\{[<%]\s*(/?)\s*([\w-]+)([^}]*?)\s*[>%]\}\}")
_LIQUID_TAG = re.compile(r"\{%-?\s*(?:end)?\w+[^%]*?-?%\}")
_WORDPRESS_SHORTCODE = re.compile(r"\[/?(?:caption|embed|gallery|video|audio|playlist)\b[^\]]*\]")
_VIDEO_LINKS = {"youtube": "https://www.youtube.com/watch?v={}", "vimeo": "https://vimeo.com/{}"}


def strip_shortcodes(markdown: str) -> str:
    """Turn video shortcodes into links and drop every other shortcode, keeping enclosed text."""
    text = _HUGO_SHORTCODE.sub(_replace_hugo_shortcode, markdown)
    text = _LIQUID_TAG.sub("", text)
    return _WORDPRESS_SHORTCODE.sub("", text)


def _replace_hugo_shortcode(match: re.Match[str]) -> str:
    closing, name, arguments = match[1], match[2].lower(), match[3]
    video_id = re.search(r'(?:id=)?["\']?([\w-]{5,})["\']?', arguments)
    if not closing and name in _VIDEO_LINKS and video_id:
        url = _VIDEO_LINKS[name].format(video_id[1])
        return f"[Watch on {name.capitalize()}]({url})"
    return ""


@functools.cache
def _markdown() -> MarkdownIt:
    """One parser for the process: CommonMark plus tables, strikethrough and footnotes."""
    # Imported on first use: most builds render no Markdown at all.
    from markdown_it import MarkdownIt  # noqa: PLC0415
    from mdit_py_plugins.footnote import footnote_plugin  # noqa: PLC0415

    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return parser.use(footnote_plugin)
