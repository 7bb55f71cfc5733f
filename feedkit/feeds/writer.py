"""Which feeds a site has, what goes in each, and writing those whose inputs changed.

Also the site's URLs and stable entry ids, which the digest uses too.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

from feedkit.config import Config
from feedkit.content.files import read_body
from feedkit.content.markup import RenderedBody, absolute_url, render_body
from feedkit.content.metadata import slugify
from feedkit.feeds.formats import FEED_FILES, Channel, FeedEntry, render_feed
from feedkit.fingerprint import code_fingerprint
from feedkit.model import Author, Review, Site
from feedkit.output import remove_file, write_if_changed
from feedkit.store import build as build_state
from feedkit.store.db import Store
from feedkit.workers import map_chunks

STYLESHEET_NAME = "feed.xsl"
FEED_INDEX_KEY = "feed_index"  # [[folder, title], ...] of the last build, for `feedkit serve`


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """One feed path (the site, a category or a tag) and the reviews that go in it."""

    folder: str  # "" for the site's own feeds, else e.g. "categories/blu-ray/"
    title: str
    reviews: tuple[Review, ...]


@dataclass(frozen=True, slots=True)
class SiteUrls:
    """Absolute URLs below the site's base URL, built with string operations (they run per review)."""

    origin: str  # "https://example.org"
    base_path: str  # "/blog" or "" (no trailing slash)
    host: str

    @classmethod
    def of(cls, config: Config) -> SiteUrls:
        return _site_urls(config.base_url)

    def url(self, path: str) -> str:
        """The absolute URL of a site path such as '/reviews/2025/x/' or 'feed.xml'."""
        return self.origin + self.base_path + "/" + quote(path.lstrip("/"), safe="/%")

    def tag_uri(self, review: Review, config: Config) -> str:
        """An RFC 4151 tag URI from the host, the first publication date (site zone) and the permalink."""
        day = review.published.astimezone(config.zone).date().isoformat()
        return f"tag:{self.host},{day}:{self.base_path}{quote(review.path, safe='/%')}"


@functools.cache
def _site_urls(base_url: str) -> SiteUrls:
    parts = urlsplit(base_url)
    return SiteUrls(f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/"), parts.hostname or "localhost")


def page_url(config: Config, review: Review) -> str:
    return SiteUrls.of(config).url(review.path)


def stable_ids(config: Config, store: Store, reviews: Sequence[Review]) -> dict[str, str]:
    """Each review's feed id: its front-matter `id`, else the tag URI it was first published under."""
    known = build_state.known_entry_ids(store)
    urls = SiteUrls.of(config)
    new = {r.source: urls.tag_uri(r, config) for r in reviews if not r.entry_id and r.source not in known}
    build_state.remember_entry_ids(store, new)
    return {review.source: review.entry_id or known.get(review.source) or new[review.source] for review in reviews}


RENDER_SHARE = 60  # bodies per core below which rendering in one process is quicker


@dataclass(slots=True)
class BodyRenderer:
    """Renders bodies only for reviews that reach a feed, reusing earlier builds' work, on every core."""

    config: Config
    store: Store
    rendered: dict[str, RenderedBody] = field(default_factory=dict)
    new_rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def prepare(self, reviews: Iterable[Review]) -> None:
        """Render (or fetch) every body these reviews need, in one batch."""
        missing: dict[str, tuple[Review, str, str]] = {}
        for review in reviews:
            if review.source in self.rendered or review.source in missing:
                continue
            url = page_url(self.config, review)
            key = self._key(review, url)
            stored = build_state.rendered_body(self.store, review.source, key)
            if stored is None:
                missing[review.source] = (review, url, key)
            else:
                self.rendered[review.source] = RenderedBody(*stored)
        jobs = [(review, url) for review, url, _ in missing.values()]
        bodies = map_chunks(functools.partial(_render_bodies, self.config), jobs, RENDER_SHARE)
        for (review, _, key), body in zip(missing.values(), bodies, strict=True):
            self.rendered[review.source] = body
            self.new_rows.append((review.source, key, body.html, body.summary))

    def __call__(self, review: Review) -> RenderedBody:
        if review.source not in self.rendered:
            self.prepare([review])
        return self.rendered[review.source]

    def _key(self, review: Review, url: str) -> str:
        words = self.config.content.summary_words
        return hashlib.sha256(repr((code_fingerprint(), review.content_hash, url, words)).encode()).hexdigest()

    def save(self) -> None:
        build_state.save_rendered_bodies(self.store, self.new_rows)


def _render_bodies(config: Config, jobs: list[tuple[Review, str]]) -> list[RenderedBody]:
    words = config.content.summary_words
    return [render_body(read_body(config, review), url, review.summary, words) for review, url in jobs]


@dataclass(frozen=True, slots=True)
class FeedsWritten:
    """What writing the feeds did to the output folder."""

    written: list[Path]
    unchanged: int
    removed: list[Path]


def write_feeds(config: Config, store: Store, site: Site) -> FeedsWritten:
    """Write the feeds of every plan whose inputs changed, and remove those no longer planned."""
    plans = feed_plans(config, site.published_reviews)
    # Ids are fixed when a review first appears in a feed: no reader has seen one before that.
    ids = stable_ids(config, store, list({review.source: review for plan in plans for review in plan.reviews}.values()))
    known = _outputs_of_this_folder(config, store)
    stale: list[tuple[FeedPlan, str, str]] = []
    for plan in plans:
        for fmt in config.feeds.formats:
            relative = plan.folder + FEED_FILES[fmt]
            fingerprint = _plan_fingerprint(config, plan, fmt, ids)
            if not _is_current(config.output_dir / relative, known.get(relative), fingerprint):
                stale.append((plan, fmt, fingerprint))
    bodies = BodyRenderer(config, store)
    bodies.prepare(review for plan, _, _ in stale for review in plan.reviews)
    first_build = _first_build(store)
    jobs = [
        (fmt, channel_for(config, plan, first_build), _entries(config, plan, ids, bodies)) for plan, fmt, _ in stale
    ]
    feeds = map_chunks(_render_feeds, jobs, RENDER_FEEDS_SHARE)
    written: list[Path] = []
    for (plan, fmt, _), data in zip(stale, feeds, strict=True):
        target = config.output_dir / plan.folder / FEED_FILES[fmt]
        if write_if_changed(target, data):
            written.append(target)
    bodies.save()
    build_state.record_outputs(
        store,
        [
            (plan.folder + FEED_FILES[fmt], fingerprint, len(data))
            for (plan, fmt, fingerprint), data in zip(stale, feeds, strict=True)
        ],
    )
    store.set_meta(FEED_INDEX_KEY, json.dumps([[plan.folder, plan.title] for plan in plans]))
    planned = {plan.folder + FEED_FILES[fmt] for plan in plans for fmt in config.feeds.formats}
    removed = _remove_unplanned(config, store, set(known) - planned)
    unchanged = len(plans) * len(config.feeds.formats) - len(written)
    if config.feeds.stylesheet:
        written += _write_stylesheet(config)
    return FeedsWritten(written, unchanged, removed)


OUTPUT_FOLDER_KEY = "output_folder"
FIRST_BUILD_KEY = "first_build"


def _first_build(store: Store) -> datetime:
    """When this site was first built: the stable date of a feed that has no entries yet."""
    recorded = store.get_meta(FIRST_BUILD_KEY)
    if recorded is None:
        recorded = datetime.now(UTC).replace(microsecond=0).isoformat()
        store.set_meta(FIRST_BUILD_KEY, recorded)
    return datetime.fromisoformat(recorded)


def _outputs_of_this_folder(config: Config, store: Store) -> dict[str, tuple[str, int]]:
    """The feeds earlier builds wrote into this output folder; another folder's are forgotten."""
    folder = str(config.output_dir.resolve())
    if store.get_meta(OUTPUT_FOLDER_KEY) not in (None, folder):
        build_state.forget_outputs(store, list(build_state.output_fingerprints(store)))
    store.set_meta(OUTPUT_FOLDER_KEY, folder)
    return build_state.output_fingerprints(store)


def _remove_unplanned(config: Config, store: Store, unplanned: set[str]) -> list[Path]:
    """Delete feed files an earlier build wrote that no plan wants now (a category that emptied,
    a format turned off), and the folders they leave empty; nothing else is touched."""
    removed = [config.output_dir / relative for relative in sorted(unplanned)]
    for path in removed:
        remove_file(path, stop_at=config.output_dir)
    build_state.forget_outputs(store, sorted(unplanned))
    return removed


RENDER_FEEDS_SHARE = 8  # feeds per core below which one process is quicker


def _render_feeds(jobs: list[tuple[str, Channel, list[FeedEntry]]]) -> list[bytes]:
    return [render_feed(fmt, channel, entries) for fmt, channel, entries in jobs]


def feed_plans(config: Config, public: Sequence[Review]) -> list[FeedPlan]:
    """The site's feed, plus one per category and per tag where config asks for them."""
    limit = config.feeds.limit
    plans = [FeedPlan("", config.site.title, tuple(public[:limit]))]
    groups: list[str] = []
    if config.feeds.category_feeds:
        groups.append("categories")
    if config.feeds.tag_feeds:
        groups.append("tags")
    for attribute in groups:
        for slug, (name, reviews) in sorted(_group(public, attribute).items()):
            title = f"{config.site.title}: {name}"
            plans.append(FeedPlan(f"{attribute}/{slug}/", title, tuple(reviews[:limit])))
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


def channel_for(config: Config, plan: FeedPlan, first_build: datetime) -> Channel:
    urls = SiteUrls.of(config)
    site = config.site
    # Atom needs an author for every entry; a review that names none is credited to the site.
    author = Author(site.author or site.title, site.author_email or None)
    return Channel(
        title=plan.title,
        description=site.description,
        site_url=config.base_url,
        feed_urls={fmt: urls.url(plan.folder + name) for fmt, name in FEED_FILES.items()},
        language=site.language,
        zone=config.zone,
        full_text=config.feeds.full_text,
        default_author=author,
        copyright=site.copyright,
        stylesheet_url=f"{urls.base_path}/{STYLESHEET_NAME}" if config.feeds.stylesheet else None,
        empty_since=first_build,
    )


def _entries(config: Config, plan: FeedPlan, ids: dict[str, str], bodies: BodyRenderer) -> list[FeedEntry]:
    entries = []
    for review in plan.reviews:
        url = page_url(config, review)
        image = absolute_url(url, review.image) if review.image else None
        entries.append(FeedEntry(review, ids[review.source], url, bodies(review), image))
    return entries


def _plan_fingerprint(config: Config, plan: FeedPlan, fmt: str, ids: dict[str, str]) -> str:
    digest = hashlib.sha256(code_fingerprint())
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
