"""The e-mail digest rendered once: HTML with inlined CSS, and text, from Jinja2 templates.

Templates come from the site's templates/ folder, else feedkit's own; autoescaping is on for HTML.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import css_inline
import jinja2

from feedkit.config import Config
from feedkit.content.bodies import BodyRenderer
from feedkit.content.markup import absolute_url
from feedkit.errors import TemplateError
from feedkit.mail.message import LINK_PLACEHOLDER, PREFERENCES_PLACEHOLDER
from feedkit.model import Review, rating_stars
from feedkit.newsletter.model import DigestContent
from feedkit.newsletter.selection import Selection
from feedkit.urls import page_url

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """What a template sees of one review."""

    title: str
    url: str
    author: str
    date: str
    summary: str
    image_url: str | None
    rating: str | None
    stars: str | None


@dataclass(frozen=True, slots=True)
class Issue:
    """What the archived copy of a digest says of itself: when it was made, and the one before."""

    created: datetime
    previous_url: str | None


def render_digest(
    config: Config, selection: Selection, bodies: BodyRenderer, view_url: str | None
) -> DigestContent:
    """Render the digest once; each recipient's link is a placeholder filled in at send time."""
    entries = digest_entries(config, bodies, selection.reviews)
    return render_content(config, selection, entries, view_url)


def render_content(
    config: Config, selection: Selection, entries: Sequence[DigestEntry], view_url: str | None
) -> DigestContent:
    """The digest's subject and both bodies from entries already prepared."""
    subject = digest_subject(config, selection.reviews, selection.since)
    first = selection.first
    html = render_html(config, subject, entries, view_url, LINK_PLACEHOLDER, first_issue=first)
    context = _context(config, subject, entries, view_url, LINK_PLACEHOLDER, first_issue=first)
    text = _render(config, TEXT_TEMPLATE, context)
    sources = tuple(review.source for review in selection.reviews)
    return DigestContent(subject, html, text, sources, selection.since, view_url or "")


def render_html(
    config: Config,
    subject: str,
    entries: Sequence[DigestEntry],
    view_url: str | None,
    unsubscribe_url: str | None,
    *,
    issue: Issue | None = None,
    first_issue: bool = False,
) -> str:
    """The HTML body; `unsubscribe_url` is None for the public archive copy, which has no link,
    and `issue` is given for that copy only: its date and the issue before it."""
    context = _context(
        config, subject, entries, view_url, unsubscribe_url, issue=issue, first_issue=first_issue
    )
    html = _render(config, HTML_TEMPLATE, context)
    # Many mail clients drop <style>; inline it, keeping @media rules (dark mode, narrow screens).
    return str(css_inline.inline(html, keep_at_rules=True, load_remote_stylesheets=False))


def digest_entries(
    config: Config, bodies: BodyRenderer, reviews: Sequence[Review]
) -> list[DigestEntry]:
    """What the templates see of each review; its standfirst comes from the rendered body."""
    bodies.prepare(reviews)
    return [_entry(config, review, bodies(review).summary) for review in reviews]


def digest_subject(config: Config, reviews: Sequence[Review], moment: datetime) -> str:
    count = len(reviews)
    first = reviews[0].title if reviews else ""
    subject = config.digest.subject.format(
        count=count,
        first_title=first,
        site_title=config.site.title,
        date=moment.astimezone(config.zone).strftime("%-d %B %Y"),
        reviews="review" if count == 1 else "reviews",
    )
    return " ".join(subject.split())  # no line breaks can reach the Subject header


def _entry(config: Config, review: Review, summary: str) -> DigestEntry:
    url = page_url(config, review)
    authors = (
        ", ".join(author.name for author in review.authors)
        or config.site.author
        or config.site.title
    )
    return DigestEntry(
        title=review.title,
        url=url,
        author=authors,
        date=review.published.astimezone(config.zone).strftime("%-d %B %Y"),
        summary=summary,
        image_url=absolute_url(url, review.image) if review.image else None,
        rating=f"{review.rating:g}" if review.rating is not None else None,
        stars=rating_stars(review.rating) if review.rating is not None else None,
    )


def _context(
    config: Config,
    subject: str,
    entries: Sequence[DigestEntry],
    view_url: str | None,
    unsubscribe_url: str | None,
    *,
    issue: Issue | None = None,
    first_issue: bool = False,
) -> dict[str, object]:
    site = {"title": config.site.title, "url": config.base_url, "language": config.site.language}
    preheader = entries[0].summary if entries else ""
    return {
        "site": site,
        "subject": subject,
        "preheader": preheader,
        "entries": entries,
        "view_url": view_url,
        "unsubscribe_url": unsubscribe_url,
        # Each recipient's preferences page goes with their unsubscribe link, or neither.
        "preferences_url": PREFERENCES_PLACEHOLDER if unsubscribe_url else None,
        "issue_date": f"{issue.created.astimezone(config.zone):%-d %B %Y}" if issue else None,
        "previous_issue_url": issue.previous_url if issue else None,
        "first_issue": first_issue,
    }


def check_templates(config: Config) -> None:
    """Both digest templates can be found and parsed; TemplateError names the one that cannot."""
    for name in (HTML_TEMPLATE, TEXT_TEMPLATE):
        _template(config, name)


def _template(config: Config, name: str) -> jinja2.Template:
    try:
        return _environment(config.root / "templates").get_template(name)
    except jinja2.TemplateNotFound as exc:
        hint = "run 'feedkit init' to get the default ones"
        raise TemplateError(f"template {exc.name} not found", hint) from exc
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name}:{exc.lineno}"
        raise TemplateError(f"{where}: {exc.message}", "fix the template") from exc


def render_template(config: Config, name: str, context: dict[str, object]) -> str:
    """Any of the site's mail templates; an HTML one with its CSS inlined, as mail needs."""
    rendered = _render(config, name, context)
    if not name.endswith(".html.j2"):
        return rendered
    return str(css_inline.inline(rendered, keep_at_rules=True, load_remote_stylesheets=False))


def site_has_template(config: Config, name: str) -> bool:
    """Whether the site's own templates/ folder holds `name` (feedkit's own do not count)."""
    return (config.root / "templates" / name).is_file()


def _render(config: Config, name: str, context: dict[str, object]) -> str:
    template = _template(config, name)
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:  # in a template it includes or extends
        where = f"{exc.filename or exc.name}:{exc.lineno}"
        raise TemplateError(f"{where}: {exc.message}", "fix the template") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template {name}: {exc}", "fix the template") from exc


@functools.cache
def _environment(site_templates: Path) -> jinja2.Environment:
    """The site's templates first, feedkit's as the fallback; HTML templates autoescape."""
    packaged = Path(str(resources.files("feedkit").joinpath("scaffold", "templates")))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([site_templates, packaged]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "html"), default_for_string=True
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def archive_location(config: Config, created: datetime, taken: Set[str]) -> tuple[Path, str]:
    """Where a digest's browser copy goes: public/digests/YYYY-MM-DD.html, or -2, -3… for a later
    digest the same day; `taken` holds the addresses earlier digests were given."""
    day = created.astimezone(config.zone).date().isoformat()
    name, number = f"{day}.html", 2
    while f"{config.base_url}digests/{name}" in taken:
        name, number = f"{day}-{number}.html", number + 1
    return config.output_dir / "digests" / name, f"{config.base_url}digests/{name}"
