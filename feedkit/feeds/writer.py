"""Writing the planned feeds whose inputs changed, removing those no plan wants any more, and the
stylesheet. What earlier builds wrote comes in, and what to remember goes out: no state here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

from feedkit.config import Config
from feedkit.content.bodies import BodyRenderer
from feedkit.feeds.formats import FEED_FILES, STYLESHEET_NAME, Channel, FeedEntry, render_feed
from feedkit.feeds.plans import FeedPlan, channel_for, planned_paths, review_entries
from feedkit.fingerprint import code_fingerprint
from feedkit.output import remove_file, write_if_changed
from feedkit.workers import map_chunks

RENDER_FEEDS_SHARE = 8  # feeds per core below which one process is quicker
BATCH = 24  # feeds rendered together: enough for every core, few enough to keep memory low
Fingerprints = dict[str, tuple[str, int]]  # relative path -> (fingerprint of inputs, size)


@dataclass(frozen=True, slots=True)
class FeedsWritten:
    """What writing the feeds did to the output folder, and what the next build should know."""

    written: list[Path]
    unchanged: int
    removed: list[Path]
    fingerprints: Fingerprints  # of the feeds rendered now
    forgotten: list[str]  # relative paths of the feeds removed
    changed_subscriptions: list[str] = field(default_factory=list)  # rewritten, not archives


@dataclass(frozen=True, slots=True)
class FeedWork:
    """The inputs of one build's feeds."""

    plans: list[FeedPlan]
    ids: dict[str, str]  # review source -> stable entry id
    previous: Fingerprints  # what earlier builds wrote into this output folder
    first_build: datetime


def write_feeds(config: Config, work: FeedWork, bodies: BodyRenderer) -> FeedsWritten:
    """Render and write every feed whose inputs changed; remove the ones no longer planned.

    Feeds are rendered a batch at a time, each batch's entries made once for all its formats:
    a large site's archives never sit in memory all at once, as entries or as bytes.
    """
    stale = _stale_feeds(config, work)
    bodies.prepare(review for plan, _, _ in stale if not plan.archive for review in plan.reviews)
    written: list[Path] = []
    subscriptions: list[str] = []
    fingerprints: Fingerprints = {}
    for start in range(0, len(stale), BATCH):
        batch = stale[start : start + BATCH]
        for (plan, fmt, fingerprint), data in zip(
            batch, _render_batch(config, work, bodies, batch), strict=True
        ):
            relative = plan.folder + FEED_FILES[fmt]
            if write_if_changed(config.output_dir / relative, data):
                written.append(config.output_dir / relative)
                if plan.subscription:
                    subscriptions.append(relative)
            fingerprints[relative] = (fingerprint, len(data))
    unplanned = sorted(set(work.previous) - planned_paths(config, work.plans))
    removed = _remove(config, unplanned)
    unchanged = len(work.plans) * len(config.feeds.formats) - len(written)
    if config.feeds.stylesheet:
        sheet = _write_stylesheet(config)
        written += sheet
        unchanged += 0 if sheet else 1
    return FeedsWritten(written, unchanged, removed, fingerprints, unplanned, subscriptions)


def _render_batch(
    config: Config, work: FeedWork, bodies: BodyRenderer, batch: list[tuple[FeedPlan, str, str]]
) -> list[bytes]:
    entries: dict[str, list[FeedEntry]] = {}
    jobs = []
    for plan, fmt, _ in batch:
        if plan.folder not in entries:
            entries[plan.folder] = review_entries(config, plan, work.ids, bodies)
        jobs.append((fmt, channel_for(config, plan, work.first_build), entries[plan.folder]))
    return map_chunks(_render_feeds, jobs, RENDER_FEEDS_SHARE)


def _stale_feeds(config: Config, work: FeedWork) -> list[tuple[FeedPlan, str, str]]:
    """(plan, format, fingerprint) of each feed whose inputs differ from what was written."""
    stale = []
    for plan in work.plans:
        for fmt in config.feeds.formats:
            relative = plan.folder + FEED_FILES[fmt]
            fingerprint = _plan_fingerprint(config, plan, fmt, work.ids)
            target = config.output_dir / relative
            if not _is_current(target, work.previous.get(relative), fingerprint):
                stale.append((plan, fmt, fingerprint))
    return stale


def _remove(config: Config, unplanned: list[str]) -> list[Path]:
    """Delete feed files an earlier build wrote that no plan wants now (a category that emptied,
    a format turned off), and the folders they leave empty; nothing else is touched."""
    removed = [config.output_dir / relative for relative in unplanned]
    for path in removed:
        remove_file(path, stop_at=config.output_dir)
    return removed


def _render_feeds(jobs: list[tuple[str, Channel, list[FeedEntry]]]) -> list[bytes]:
    return [render_feed(fmt, channel, entries) for fmt, channel, entries in jobs]


def _plan_fingerprint(config: Config, plan: FeedPlan, fmt: str, ids: dict[str, str]) -> str:
    digest = hashlib.sha256(code_fingerprint())
    digest.update(repr((config.site, config.content, config.feeds, fmt)).encode())
    # Where the plan sits among the archives: a new neighbour is a link to write.
    digest.update(repr((plan.title, plan.prev_archive, plan.next_archive, plan.archive)).encode())
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
    package = resources.files("feedkit")
    return package.joinpath("scaffold", "templates", STYLESHEET_NAME).read_bytes()
