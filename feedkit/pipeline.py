"""The use cases every shell calls: the CLI, the scheduler and the web app run the same code.

`build` turns the content folder into feed files; `check` validates without writing.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from feedkit import __version__
from feedkit.config import Config
from feedkit.content import load_site, read_body
from feedkit.errors import ContentError
from feedkit.feeds import FEED_FILES, Channel, FeedEntry, render_feed
from feedkit.frontmatter import slugify
from feedkit.markup import RenderedBody, absolute_url, render_body
from feedkit.model import Author, LoadResult, Problem, Review, ReviewStatus, Site
from feedkit.output import write_if_changed
from feedkit.state import SqliteReviewCache, Store

STYLESHEET_NAME = "feed.xsl"


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the one-line summary and for tests."""

    published: int
    drafts: int
    scheduled: int
    problems: tuple[Problem, ...]
    written: tuple[Path, ...] = ()
    unchanged: int = 0

    @property
    def skipped(self) -> int:
        return sum(1 for problem in self.problems if problem.skipped)

    def summary(self, output_dir: str) -> str:
        return (
            f"{self.published} reviews published, {self.drafts} drafts, {self.scheduled} scheduled, "
            f"{self.skipped} files skipped with problems; "
            f"{len(self.written)} files written, {self.unchanged} unchanged in {output_dir}"
        )


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """One feed path (the site, a category or a tag) and the reviews that go in it."""

    folder: str  # "" for the site's own feeds, else e.g. "categories/blu-ray/"
    title: str
    reviews: tuple[Review, ...]


@dataclass(slots=True)
class _BodyRenderer:
    """Renders each review body at most once per build, and only for reviews that reach a feed."""

    config: Config
    rendered: dict[str, RenderedBody] = field(default_factory=dict)

    def __call__(self, review: Review, url: str) -> RenderedBody:
        if review.source not in self.rendered:
            markdown = read_body(self.config, review)
            words = self.config.content.summary_words
            self.rendered[review.source] = render_body(markdown, url, review.summary, words)
        return self.rendered[review.source]


def build(config: Config, now: datetime | None = None, strict: bool = False) -> BuildReport:
    """Load the site, write every feed whose content changed, and report what happened."""
    with Store(config.database_path) as store:
        result = load(config, store, now)
        if strict and result.problems:
            raise ContentError(_strict_message(result.problems), "fix them, or build without --strict")
        written, unchanged = write_feeds(config, store, result.site)
    return _report(result, written, unchanged)


def check(config: Config, now: datetime | None = None) -> BuildReport:
    """Read the config and every review without writing anything."""
    with Store(config.database_path) as store:
        result = load(config, store, now, save_cache=False)
    return _report(result, (), 0)


def load(config: Config, store: Store, now: datetime | None = None, save_cache: bool = True) -> LoadResult:
    cache = SqliteReviewCache(store, cache_fingerprint(config))
    result = load_site(config, now or datetime.now(UTC), cache)
    if save_cache:
        cache.save()
    return result


def write_feeds(config: Config, store: Store, site: Site) -> tuple[list[Path], int]:
    """Write the feeds of every plan whose inputs changed since the last build."""
    public = site.published_reviews
    ids = stable_ids(config, store, public)
    bodies = _BodyRenderer(config)
    known = store.output_fingerprints()
    written: list[Path] = []
    unchanged = 0
    records: list[tuple[str, str, int]] = []
    for plan in feed_plans(config, public):
        for fmt in config.feeds.formats:
            relative = plan.folder + FEED_FILES[fmt]
            target = config.output_dir / relative
            fingerprint = _plan_fingerprint(config, plan, fmt, ids)
            if _is_current(target, known.get(relative), fingerprint):
                unchanged += 1
                continue
            data = render_feed(fmt, channel_for(config, plan), _entries(config, plan, ids, bodies))
            if write_if_changed(target, data):
                written.append(target)
            else:
                unchanged += 1
            records.append((relative, fingerprint, len(data)))
    if config.feeds.stylesheet:
        written += _write_stylesheet(config)
    store.record_outputs(records)
    return written, unchanged


def feed_plans(config: Config, public: Sequence[Review]) -> list[FeedPlan]:
    """The site's feed, plus one per category and per tag where config asks for them."""
    limit = config.feeds.limit
    plans = [FeedPlan("", config.site.title, tuple(public[:limit]))]
    groups: list[tuple[str, str]] = []
    if config.feeds.category_feeds:
        groups.append(("categories", "categories"))
    if config.feeds.tag_feeds:
        groups.append(("tags", "tags"))
    for folder, attribute in groups:
        for slug, (name, reviews) in sorted(_group(public, attribute).items()):
            title = f"{config.site.title}: {name}"
            plans.append(FeedPlan(f"{folder}/{slug}/", title, tuple(reviews[:limit])))
    return plans


def _group(reviews: Iterable[Review], attribute: str) -> dict[str, tuple[str, list[Review]]]:
    """Reviews by category (or tag) slug; 'Blu-ray' and 'blu-ray' are one group, named as first seen."""
    groups: dict[str, tuple[str, list[Review]]] = {}
    for review in reviews:
        for name in getattr(review, attribute):
            slug = slugify(name)
            if slug:
                groups.setdefault(slug, (name, []))[1].append(review)
    return groups


def channel_for(config: Config, plan: FeedPlan) -> Channel:
    base = config.base_url
    site = config.site
    # Atom needs an author for every entry; a review that names none is credited to the site.
    author = Author(site.author or site.title, site.author_email or None)
    return Channel(
        title=plan.title,
        description=site.description,
        site_url=base,
        feed_urls={fmt: urljoin(base, quote(plan.folder + name)) for fmt, name in FEED_FILES.items()},
        language=site.language,
        zone=config.zone,
        full_text=config.feeds.full_text,
        default_author=author,
        copyright=site.copyright,
        stylesheet_url=urlsplit(urljoin(base, STYLESHEET_NAME)).path if config.feeds.stylesheet else None,
    )


def _entries(config: Config, plan: FeedPlan, ids: dict[str, str], bodies: _BodyRenderer) -> list[FeedEntry]:
    entries = []
    for review in plan.reviews:
        url = page_url(config, review)
        image = absolute_url(url, review.image) if review.image else None
        entries.append(FeedEntry(review, ids[review.source], url, bodies(review, url), image))
    return entries


def page_url(config: Config, review: Review) -> str:
    return urljoin(config.base_url, quote(review.path.lstrip("/"), safe="/%"))


def stable_ids(config: Config, store: Store, reviews: Sequence[Review]) -> dict[str, str]:
    """Each review's feed id: its front-matter `id`, else the tag URI it was first published under."""
    proposed = {review.source: tag_uri(config, review) for review in reviews if not review.entry_id}
    remembered = store.entry_ids(proposed)
    return {review.source: review.entry_id or remembered[review.source] for review in reviews}


def tag_uri(config: Config, review: Review) -> str:
    """An RFC 4151 tag URI from the site's host, the first publication date and the permalink."""
    host = urlsplit(config.base_url).hostname or "localhost"
    day = review.published.astimezone(config.zone).date().isoformat()
    return f"tag:{host},{day}:{urlsplit(page_url(config, review)).path}"


def cache_fingerprint(config: Config) -> str:
    """Everything that shapes a parsed review; when it changes, cached reviews are parsed again."""
    shape = (__version__, config.site.timezone, config.content.permalink, config.content.dir)
    return hashlib.sha256(repr(shape).encode()).hexdigest()


@functools.cache
def _renderer_fingerprint() -> bytes:
    """The code that shapes a feed: a feedkit upgrade rewrites feeds even with the same version number."""
    package = Path(__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for module in ("feeds.py", "markup.py", "pipeline.py"):
        digest.update((package / module).read_bytes())
    return digest.digest()


def _plan_fingerprint(config: Config, plan: FeedPlan, fmt: str, ids: dict[str, str]) -> str:
    digest = hashlib.sha256(_renderer_fingerprint())
    digest.update(repr((config.site, config.content, config.feeds, fmt)).encode())
    for review in plan.reviews:
        digest.update(f"{ids[review.source]}\0{review.content_hash}\0{review.path}\n".encode())
    return digest.hexdigest()


def _is_current(target: Path, known: tuple[str, int] | None, fingerprint: str) -> bool:
    if known is None or known[0] != fingerprint:
        return False
    try:
        return target.stat().st_size == known[1]
    except OSError:
        return False


def _write_stylesheet(config: Config) -> list[Path]:
    """The site's own templates/feed.xsl if it has one, else feedkit's."""
    own = config.root / "templates" / STYLESHEET_NAME
    data = own.read_bytes() if own.is_file() else default_stylesheet()
    target = config.output_dir / STYLESHEET_NAME
    return [target] if write_if_changed(target, data) else []


def default_stylesheet() -> bytes:
    return resources.files("feedkit").joinpath("scaffold", "templates", STYLESHEET_NAME).read_bytes()


def _report(result: LoadResult, written: Sequence[Path], unchanged: int) -> BuildReport:
    site = result.site
    return BuildReport(
        published=site.count(ReviewStatus.PUBLISHED),
        drafts=site.count(ReviewStatus.DRAFT),
        scheduled=site.count(ReviewStatus.SCHEDULED),
        problems=result.problems,
        written=tuple(written),
        unchanged=unchanged,
    )


def _strict_message(problems: Sequence[Problem]) -> str:
    lines = [str(problem) for problem in problems]
    return f"{len(problems)} problem(s) in the content, nothing written:\n" + "\n".join(lines)
