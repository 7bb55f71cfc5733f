"""The e-mail digest: choosing what is new, and rendering it once (HTML with inlined CSS, and text).

Templates come from the site's templates/ folder, else feedkit's own; autoescaping is on for HTML.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import css_inline
import jinja2

from feedkit.config import Config
from feedkit.content.bodies import BodyRenderer
from feedkit.content.markup import absolute_url
from feedkit.errors import TemplateError
from feedkit.mail.message import UNSUBSCRIBE_PLACEHOLDER
from feedkit.model import DigestContent, Review, Site, rating_stars
from feedkit.store import newsletter as mailstate
from feedkit.store.build import StoreBodyCache
from feedkit.store.db import Store
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


@dataclass(frozen=True, slots=True)
class Selection:
    """The reviews the next digest would hold, and the moment it looks back to."""

    since: datetime
    reviews: tuple[Review, ...]


def select_reviews(config: Config, store: Store, site: Site) -> Selection:
    """Public reviews not in any digest yet, newest first, that became public after the digest floor.

    The floor is fixed by the first digest (now minus `lookback_days`), so a review that becomes
    public late, or one held back by `max_items`, goes into the next digest, once.
    """
    public = site.published_reviews
    hidden = {review.source for review in site.reviews} - {review.source for review in public}
    late = mailstate.record_review_visibility(store, {review.source for review in public}, hidden)
    since = mailstate.digest_floor(store) or site.now - timedelta(days=config.digest.lookback_days)
    already = mailstate.digested_sources(store)
    fresh = [
        review
        for review in public
        if review.source not in already and (late.get(review.source) or review.published) > since
    ]
    return Selection(since, tuple(fresh[: config.digest.max_items]))


def render_digest(config: Config, store: Store, selection: Selection, view_url: str | None) -> DigestContent:
    """Render the digest once; each recipient's unsubscribe link is a placeholder filled in at send time."""
    return render_content(config, selection, digest_entries(config, store, selection.reviews), view_url)


def render_content(
    config: Config, selection: Selection, entries: Sequence[DigestEntry], view_url: str | None
) -> DigestContent:
    """The digest's subject and both bodies from entries already prepared."""
    subject = digest_subject(config, selection.reviews, selection.since)
    html = render_html(config, subject, entries, view_url, UNSUBSCRIBE_PLACEHOLDER)
    text = _render(config, TEXT_TEMPLATE, _context(config, subject, entries, view_url, UNSUBSCRIBE_PLACEHOLDER))
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
) -> str:
    """The HTML body; `unsubscribe_url` is None for the public archive copy, which has no link,
    and `issue` is given for that copy only: its date and the issue before it."""
    context = _context(config, subject, entries, view_url, unsubscribe_url, issue=issue)
    html = _render(config, HTML_TEMPLATE, context)
    # Many mail clients drop <style>; inline it, keeping @media rules (dark mode, narrow screens).
    return str(css_inline.inline(html, keep_at_rules=True, load_remote_stylesheets=False))


def digest_entries(config: Config, store: Store, reviews: Sequence[Review]) -> list[DigestEntry]:
    bodies = BodyRenderer(config, StoreBodyCache(store))
    bodies.prepare(reviews)
    bodies.save()
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
    authors = ", ".join(author.name for author in review.authors) or config.site.author or config.site.title
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
        "issue_date": f"{issue.created.astimezone(config.zone):%-d %B %Y}" if issue else None,
        "previous_issue_url": issue.previous_url if issue else None,
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
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def archive_path(config: Config, created: datetime) -> tuple[Path, str]:
    """Where a digest's browser copy goes (public/digests/YYYY-MM-DD.html, -2 for a second that day)."""
    day = created.astimezone(config.zone).date().isoformat()
    folder = config.output_dir / "digests"
    name = f"{day}.html"
    number = 2
    while (folder / name).exists():
        name = f"{day}-{number}.html"
        number += 1
    return folder / name, f"{config.base_url}digests/{name}"
