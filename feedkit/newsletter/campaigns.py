"""The digest's use cases, shared by the CLI, the scheduler and the web app: what would go out,
a preview, a test, the send itself (finishing anything unfinished first) and its status.

Reads never write: a plan, a preview, a test and the status open the state database read-only, so
they work while a send holds the write lock. Only making a digest records what it saw.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedkit.config import Config
from feedkit.content.bodies import BodyRenderer
from feedkit.errors import FeedkitError, SendStoppedError
from feedkit.mail.message import LINK_PLACEHOLDER, PREFERENCES_PLACEHOLDER
from feedkit.mail.signing import load_signer
from feedkit.mail.transports import FileTransport, Transport, open_transport
from feedkit.model import Site
from feedkit.newsletter.archive import publish_digest_archive
from feedkit.newsletter.messages import DigestMessages, preferences_link, unsubscribe_link
from feedkit.newsletter.model import Audience, FrozenDigest
from feedkit.newsletter.notices import check_notice_templates
from feedkit.newsletter.render import (
    DigestEntry,
    Issue,
    archive_location,
    check_templates,
    digest_entries,
    digest_subject,
    render_content,
    render_digest,
    render_html,
)
from feedkit.newsletter.selection import Selection, latest_reviews, select_reviews
from feedkit.newsletter.sending import Sender, SendReport, stopped_error
from feedkit.newsletter.subscriptions import normalize_address
from feedkit.newsletter.topics import Segment, segments
from feedkit.output import remove_file, write_atomic
from feedkit.publishing import load, record_visibility
from feedkit.store import locks
from feedkit.store import newsletter as records
from feedkit.store import subscribers as subscriber_records
from feedkit.store.build import StoreBodyCache
from feedkit.store.db import Store, open_store
from feedkit.tokens import Tokens, secret_from_environment

PREVIEW_FOLDER = "preview"
PREVIEW_RECIPIENT = "subscriber@example.org"


@dataclass(frozen=True, slots=True)
class SendPlan:
    """What `digest send` would do: for the confirmation prompt and --dry-run."""

    subject: str
    reviews: int
    recipients: int
    unfinished: tuple[int, ...]
    nothing_new: str = ""  # why there is no new digest, when there is none


@dataclass(frozen=True, slots=True)
class Preview:
    """What `digest preview` wrote: the next digest, or the latest reviews when nothing is new."""

    html_path: Path
    text_path: Path
    reviews: int  # 0 when no review is published at all: nothing was written
    nothing_new: str = ""  # set when the preview shows the latest reviews instead of new ones


@dataclass(frozen=True, slots=True)
class TestSend:
    """Where a test went: its Message-ID, and the file it was written to (file transport)."""

    message_id: str
    reviews: int
    saved_to: Path | None = None
    nothing_new: str = ""


@dataclass(slots=True)
class DeliveryRun:
    """What one send did, and what it means: `failure` is set when it stopped early or delivered
    nothing (what was not sent stays pending either way)."""

    reports: list[SendReport] = field(default_factory=list)
    failure: SendStoppedError | None = None


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The next digest's selection, and what to show instead when nothing is new."""

    selection: Selection
    latest: Selection
    nothing_new: str

    @property
    def shown(self) -> Selection:
        """What a preview or a test shows: the next digest, else the latest reviews."""
        return self.selection if self.selection.reviews else self.latest


def _candidates(config: Config, store: Store, now: datetime | None) -> _Candidates:
    """What the next digest would hold, worked out without writing anything."""
    site = load(config, store, now or datetime.now(UTC), save_cache=False).site
    selection = _select(config, store, site)
    latest = latest_reviews(site, selection, config.digest.max_items)
    reason = "" if selection.reviews else nothing_new_reason(config, store)
    return _Candidates(selection, latest, reason)


def _select(config: Config, store: Store, site: Site) -> Selection:
    history = records.digest_history(store)
    digest = config.digest
    return select_reviews(
        site, history, lookback_days=digest.lookback_days, max_items=digest.max_items
    )


def nothing_new_reason(config: Config, store: Store) -> str:
    """Which window was searched, in words an editor can act on."""
    last = records.last_digest(store)
    if last is None:
        days = config.digest.lookback_days
        period = "day" if days == 1 else f"{days} days"
        return f"no review published in the last {period} (lookback_days)"
    number, created = last
    when = created.astimezone(config.zone).strftime("%-d %B %Y")
    return f"no review became public since the last digest (#{number}, {when})"


def plan_send(config: Config, now: datetime | None = None) -> SendPlan:
    with open_store(config, readonly=True) as store:
        candidates = _candidates(config, store, now)
        selection = candidates.selection
        subject = digest_subject(config, selection.reviews, selection.since)
        return SendPlan(
            subject=subject if selection.reviews else "",
            reviews=len(selection.reviews),
            recipients=subscriber_records.count_subscribed(store, now or datetime.now(UTC)),
            unfinished=tuple(records.unfinished_digests(store)),
            nothing_new=candidates.nothing_new,
        )


def preview(config: Config, now: datetime | None = None) -> Preview:
    """Write the next digest's HTML and text, as a sample subscriber would receive them.

    With nothing new it shows the latest reviews instead, and says so; with no published review
    at all nothing is written and an earlier preview is removed, so none is left to mislead.
    """
    folder = config.database_path.parent / PREVIEW_FOLDER
    html_path, text_path = folder / "digest.html", folder / "digest.txt"
    with open_store(config, readonly=True) as store:
        candidates = _candidates(config, store, now)
        shown = candidates.shown
        if not shown.reviews:
            remove_file(html_path, stop_at=folder)
            remove_file(text_path, stop_at=folder)
            return Preview(html_path, text_path, 0, candidates.nothing_new)
        _, view_url = archive_location(config, datetime.now(UTC), set(records.archive_urls(store)))
        bodies = BodyRenderer(config, StoreBodyCache(store))
        content = render_digest(config, shown, bodies, view_url if config.digest.archive else None)
    links = _sample_links(config)
    write_atomic(html_path, _fill(content.html, links).encode())
    write_atomic(text_path, _fill(content.text, links).encode())
    return Preview(html_path, text_path, len(shown.reviews), candidates.nothing_new)


def _sample_links(config: Config) -> dict[str, str]:
    """Real links for a sample subscriber where the secret is set; placeholders where not."""
    try:
        tokens = Tokens(secret_from_environment())
    except FeedkitError:
        return {
            LINK_PLACEHOLDER: f"{config.unsubscribe_url}?t=preview",
            PREFERENCES_PLACEHOLDER: f"{config.web_url}preferences?t=preview",
        }
    return {
        LINK_PLACEHOLDER: unsubscribe_link(config, tokens, PREVIEW_RECIPIENT),
        PREFERENCES_PLACEHOLDER: preferences_link(config, tokens, PREVIEW_RECIPIENT),
    }


def _fill(body: str, links: dict[str, str]) -> str:
    for placeholder, link in links.items():
        body = body.replace(placeholder, link)
    return body


def send_test(
    config: Config, address: str, transport: Transport, now: datetime | None = None
) -> TestSend:
    """Send the digest that would go out now (or the latest reviews) to one address; record
    nothing."""
    recipient = normalize_address(address)[1]
    tokens = Tokens(secret_from_environment())
    with open_store(config, readonly=True) as store:
        candidates = _candidates(config, store, now)
        if not candidates.shown.reviews:
            raise FeedkitError("no review is published yet", "publish a review first")
        bodies = BodyRenderer(config, StoreBodyCache(store))
        content = render_digest(config, candidates.shown, bodies, None)
    digest = FrozenDigest(0, datetime.now(UTC).replace(microsecond=0), content)
    messages = DigestMessages(config, digest, tokens)
    message = messages.build(recipient, test=True)
    with transport:
        transport.send(messages.sender, message)
    saved = transport.path_for(message) if isinstance(transport, FileTransport) else None
    count = len(candidates.shown.reviews)
    return TestSend(message.message_id, count, saved, candidates.nothing_new)


def check_ready(config: Config) -> None:
    """What sending needs, checked without sending: the secret, the templates, the transport and
    the DKIM key."""
    secret_from_environment()
    check_templates(config)
    check_notice_templates(config)
    open_transport(config)
    load_signer(config)


def deliver(
    config: Config,
    transports: Callable[[], Transport] | None = None,
    *,
    create: bool = True,
    stop: threading.Event | None = None,
    on_result: Callable[[str], None] = lambda _status: None,
) -> DeliveryRun:
    """Send (see `send`), and say what the outcome means for the caller to report.

    Messages go through the transport config.toml asks for, unless `transports` makes others.
    """
    opener = transports or functools.partial(open_transport, config)
    run = DeliveryRun(send(config, opener, create=create, stop=stop, on_result=on_result))
    run.failure = stopped_error(run.reports)
    return run


def send(
    config: Config,
    transports: Callable[[], Transport],
    *,
    on_result: Callable[[str], None] = lambda _status: None,
    stop: threading.Event | None = None,
    now: datetime | None = None,
    create: bool = True,
) -> list[SendReport]:
    """Resume every unfinished digest, then (if `create`) freeze and send what is new.

    One sender at a time, whoever started it: a second is refused with LockedError.
    """
    tokens = Tokens(secret_from_environment())
    load_signer(config)  # a key that cannot sign must stop the send before a digest is frozen
    run = _SendRun(config, tokens, transports, on_result, stop or threading.Event())
    reports: list[SendReport] = []
    with open_store(config) as store, locks.send_lock(store):
        _forget_stale_requests(config, store, now)
        for digest_id in records.unfinished_digests(store):
            reports.append(run.send(store, records.load_digest(store, digest_id)))
        if create and not run.stop.is_set():
            for digest in create_run(config, store, now):
                if not run.stop.is_set():  # a digest not started now is finished next time
                    reports.append(run.send(store, digest))
        _record_refusals(config, store, reports, now)
    return reports


def _record_refusals(
    config: Config, store: Store, reports: list[SendReport], now: datetime | None
) -> None:
    """Recipients the server refused outright count as bounces, and may be suppressed."""
    refusing = [report for report in reports if report.refused]
    if not refusing:
        return
    from feedkit.newsletter import bounces  # noqa: PLC0415 - only a send with refusals needs it

    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    for report in refusing:
        bounces.record_refusals(config, store, report.digest_id, report.refused, moment)


def _forget_stale_requests(config: Config, store: Store, now: datetime | None) -> None:
    """Requests never confirmed go after pending_days, even on a site nobody subscribes to."""
    days = timedelta(days=config.subscribe.pending_days)
    subscriber_records.forget_stale_requests(store, (now or datetime.now(UTC)) - days)


@dataclass(frozen=True, slots=True)
class _SendRun:
    """What every digest sent in one run shares."""

    config: Config
    tokens: Tokens
    transports: Callable[[], Transport]
    on_result: Callable[[str], None]
    stop: threading.Event

    def send(self, store: Store, digest: FrozenDigest) -> SendReport:
        messages = DigestMessages(self.config, digest, self.tokens)

        def open_log() -> records.DeliveryRecords:
            return records.DeliveryRecords(open_store(self.config), digest.id)

        sender = Sender(
            self.config, digest, messages, self.transports, open_log, self.on_result, self.stop
        )
        return sender.run(records.pending_deliveries(store, digest.id))


def create_run(config: Config, store: Store, now: datetime | None = None) -> list[FrozenDigest]:
    """Freeze the next run: the reviews new since the last one, as one digest per distinct set
    of reviews the readers' topics make, each with one delivery per reader. The first digest
    holds every review of the run, even when no reader takes all of them: it is the run's record
    and its archived copy, written first, so no mail ever links to a missing page."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    site = load(config, store, moment).site
    record_visibility(store, site)
    selection = _select(config, store, site)
    if not selection.reviews:
        return []
    archived = records.archive_urls(store)
    path, url = archive_location(config, moment, set(archived))
    bodies = BodyRenderer(config, StoreBodyCache(store))
    entries = digest_entries(config, bodies, selection.reviews)
    bodies.save()
    view_url = url if config.digest.archive else None
    if config.digest.archive:
        # The browser copy: the whole run's digest, without a personal unsubscribe link.
        issue = Issue(moment, archived[-1] if archived else None)
        subject = digest_subject(config, selection.reviews, selection.since)
        html = render_html(config, subject, entries, None, None, issue=issue)
        write_atomic(path, html.encode("utf-8"))
    readers = subscriber_records.audience(store, moment)
    parts = _run_parts(config, readers, selection, entries, view_url)
    run = records.freeze_run(store, parts, moment)
    if config.digest.archive:
        publish_digest_archive(config, store, site)
    return run


def _run_parts(
    config: Config,
    readers: Sequence[Audience],
    selection: Selection,
    entries: Sequence[DigestEntry],
    view_url: str | None,
) -> list[records.Part]:
    """The run's digests: every review first, then each other set some readers chose."""
    found = segments(selection.reviews, config.topics, readers)
    if not found or len(found[0].reviews) < len(selection.reviews):
        found.insert(0, Segment(selection.reviews, (), ""))
    by_source = dict(zip((review.source for review in selection.reviews), entries, strict=True))
    parts = []
    for segment in found:
        chosen = Selection(selection.since, segment.reviews, selection.first)
        picked = [by_source[review.source] for review in segment.reviews]
        content = render_content(config, chosen, picked, view_url)
        parts.append(records.Part(content, segment.email_keys, segment.label))
    return parts
