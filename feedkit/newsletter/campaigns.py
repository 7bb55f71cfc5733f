"""The newsletter's use cases, shared by the CLI, the scheduler and the web app.

Preview, test send, send (which first resumes anything unfinished), status, and subscribers.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import email_validator

from feedkit.config import Config
from feedkit.errors import FeedkitError, SubscriberError
from feedkit.mail.message import (
    UNSUBSCRIBE_PLACEHOLDER,
    FileTransport,
    MessageBuilder,
    Transport,
    open_transport,
    secret_from_environment,
    unsubscribe_link,
)
from feedkit.newsletter.csvfiles import NoAddressColumnError, read_subscriber_rows
from feedkit.newsletter.render import (
    Issue,
    Selection,
    archive_path,
    check_templates,
    digest_entries,
    digest_subject,
    render_content,
    render_digest,
    render_html,
    select_reviews,
)
from feedkit.newsletter.sending import Sender, SendReport
from feedkit.output import write_atomic
from feedkit.pipeline import load
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store, open_store
from feedkit.store.newsletter import FrozenDigest, Subscriber

PREVIEW_FOLDER = "preview"


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


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The next digest's selection, and what to show instead when nothing is new."""

    selection: Selection
    nothing_new: str
    latest: Selection


def selection_now(config: Config, store: Store, now: datetime | None = None) -> Selection:
    result = load(config, store, now or datetime.now(UTC))
    return select_reviews(config, store, result.site)


def _candidates(config: Config, store: Store, now: datetime | None) -> _Candidates:
    site = load(config, store, now or datetime.now(UTC)).site
    selection = select_reviews(config, store, site)
    latest = Selection(selection.since, site.published_reviews[: config.digest.max_items])
    reason = "" if selection.reviews else nothing_new_reason(config, store)
    return _Candidates(selection, reason, latest)


def nothing_new_reason(config: Config, store: Store) -> str:
    """Which window was searched, in words an editor can act on."""
    last = mailstate.last_digest(store)
    if last is None:
        days = config.digest.lookback_days
        period = "day" if days == 1 else f"{days} days"
        return f"no review published in the last {period} (lookback_days)"
    number, created = last
    when = created.astimezone(config.zone).strftime("%-d %B %Y")
    return f"no review became public since the last digest (#{number}, {when})"


def plan_send(config: Config, now: datetime | None = None) -> SendPlan:
    with open_store(config) as store:
        candidates = _candidates(config, store, now)
        selection = candidates.selection
        subject = digest_subject(config, selection.reviews, selection.since) if selection.reviews else ""
        return SendPlan(
            subject=subject,
            reviews=len(selection.reviews),
            recipients=mailstate.count_subscribed(store),
            unfinished=tuple(mailstate.unfinished_digests(store)),
            nothing_new=candidates.nothing_new,
        )


PREVIEW_RECIPIENT = "subscriber@example.org"


def preview(config: Config, now: datetime | None = None) -> Preview:
    """Write the next digest's HTML and text, as a sample subscriber would receive them.

    With nothing new it shows the latest reviews instead, and says so; with no published review
    at all nothing is written and an earlier preview is removed, so none is left to mislead.
    """
    folder = config.database_path.parent / PREVIEW_FOLDER
    html_path, text_path = folder / "digest.html", folder / "digest.txt"
    with open_store(config) as store:
        candidates = _candidates(config, store, now)
        shown = candidates.selection if candidates.selection.reviews else candidates.latest
        if not shown.reviews:
            html_path.unlink(missing_ok=True)
            text_path.unlink(missing_ok=True)
            return Preview(html_path, text_path, 0, candidates.nothing_new)
        _, view_url = archive_path(config, datetime.now(UTC))
        content = render_digest(config, store, shown, view_url if config.digest.archive else None)
    link = _sample_unsubscribe_link(config)
    write_atomic(html_path, content.html.replace(UNSUBSCRIBE_PLACEHOLDER, link).encode())
    write_atomic(text_path, content.text.replace(UNSUBSCRIBE_PLACEHOLDER, link).encode())
    return Preview(html_path, text_path, len(shown.reviews), candidates.nothing_new)


def _sample_unsubscribe_link(config: Config) -> str:
    """A real link for a sample subscriber where the secret is set; a placeholder where not."""
    try:
        return unsubscribe_link(config, PREVIEW_RECIPIENT, secret_from_environment())
    except FeedkitError:
        return f"{config.unsubscribe_url}?t=preview"


def send_test(config: Config, address: str, transport: Transport, now: datetime | None = None) -> TestSend:
    """Send the digest that would go out now (or the latest reviews) to one address; record nothing."""
    recipient = normalize_address(address)[1]
    secret = secret_from_environment()
    with open_store(config) as store:
        candidates = _candidates(config, store, now)
        shown = candidates.selection if candidates.selection.reviews else candidates.latest
        if not shown.reviews:
            raise FeedkitError("no review is published yet", "publish a review first")
        content = render_digest(config, store, shown, None)
    digest = FrozenDigest(0, datetime.now(UTC).replace(microsecond=0), content)
    builder = MessageBuilder(config, digest, secret)
    message = builder.build(recipient, test=True)
    with transport:
        transport.send(builder.sender, message)
    saved = transport.path_for(message) if isinstance(transport, FileTransport) else None
    return TestSend(message.message_id, len(shown.reviews), saved, candidates.nothing_new)


def check_ready(config: Config) -> None:
    """What sending needs, checked without sending: the secret, the templates, the transport."""
    secret_from_environment()
    check_templates(config)
    open_transport(config)


def send(
    config: Config,
    open_transport: Callable[[], Transport],
    *,
    on_result: Callable[[str], None] = lambda _status: None,
    stop: threading.Event | None = None,
    now: datetime | None = None,
    create: bool = True,
) -> list[SendReport]:
    """Resume every unfinished digest, then (if `create`) freeze and send what is new. One sender at a time."""
    run = _SendRun(config, secret_from_environment(), open_transport, on_result, stop or threading.Event())
    reports: list[SendReport] = []
    with open_store(config) as store, mailstate.send_lock(store):
        for digest_id in mailstate.unfinished_digests(store):
            reports.append(run.send(store, mailstate.load_digest(store, digest_id)))
        if create and not run.stop.is_set():
            digest = create_digest(config, store, now)
            if digest is not None:
                reports.append(run.send(store, digest))
    return reports


@dataclass(frozen=True, slots=True)
class _SendRun:
    """What every digest sent in one run shares."""

    config: Config
    secret: bytes
    open_transport: Callable[[], Transport]
    on_result: Callable[[str], None]
    stop: threading.Event

    def send(self, store: Store, digest: FrozenDigest) -> SendReport:
        builder = MessageBuilder(self.config, digest, self.secret)
        sender = Sender(self.config, digest, builder, self.open_transport, self.on_result, self.stop)
        return sender.run(mailstate.pending_deliveries(store, digest.id))


def create_digest(config: Config, store: Store, now: datetime | None = None) -> FrozenDigest | None:
    """Freeze the next digest (reviews, rendered bodies, one delivery per subscriber); None if nothing is new."""
    selection = selection_now(config, store, now)
    if not selection.reviews:
        return None
    path, url = archive_path(config, datetime.now(UTC))
    entries = digest_entries(config, store, selection.reviews)
    content = render_content(config, selection, entries, url if config.digest.archive else None)
    digest = mailstate.freeze_digest(store, content)
    if config.digest.archive:
        # The browser copy: the same digest, with a general unsubscribe link instead of a personal one.
        issue = Issue(digest.created_at, mailstate.previous_archive_url(store, digest.id))
        html = render_html(config, content.subject, entries, None, None, issue=issue)
        write_atomic(path, html.encode("utf-8"))
    return digest


def pending_count(config: Config) -> int:
    with open_store(config) as store:
        return sum(len(mailstate.pending_deliveries(store, digest)) for digest in mailstate.unfinished_digests(store))


def status(config: Config, limit: int = 10) -> list[mailstate.DigestStatus]:
    with open_store(config) as store:
        return mailstate.digest_statuses(store, limit)


# -- subscribers ----------------------------------------------------------------------------------


def normalize_address(address: str) -> tuple[str, str]:
    """(key, address): the address as email-validator normalizes it, and its lower-case key."""
    try:
        # allow_smtputf8=False: every address must be one any SMTP server takes (ASCII local part;
        # an international domain is kept in its ASCII form).
        valid = email_validator.validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except email_validator.EmailNotValidError as exc:
        raise SubscriberError(f"{address!r} is not a valid e-mail address ({exc})") from None
    ascii_address = valid.ascii_email or valid.normalized
    return ascii_address.lower(), ascii_address


def add_subscriber(config: Config, address: str, name: str = "") -> bool:
    """Subscribe an address (False if it already was); refuses one that unsubscribed: it is never mailed again."""
    key, normalized = normalize_address(address)
    with open_store(config) as store:
        existing = mailstate.find_subscriber(store, key)
        if existing is not None and existing.status == mailstate.UNSUBSCRIBED:
            raise SubscriberError(
                f"{normalized} unsubscribed on {existing.unsubscribed_at}", "feedkit never mails it again"
            )
        if existing is not None:
            return False
        mailstate.insert_subscribers(store, [(key, normalized, " ".join(name.split()))])
    return True


def remove_subscriber(config: Config, address: str) -> bool:
    key, _ = normalize_address(address)
    with open_store(config) as store:
        return mailstate.unsubscribe(store, key)


def list_subscribers(config: Config, status_filter: str | None = None) -> list[Subscriber]:
    with open_store(config) as store:
        return mailstate.list_subscribers(store, status_filter)


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    already: int = 0
    unsubscribed: int = 0
    invalid: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.already} already subscribed, "
            f"{self.unsubscribed} kept out (unsubscribed earlier), {len(self.invalid)} invalid"
        )

    @property
    def found_any(self) -> bool:
        """At least one row held a valid address, new or not."""
        return bool(self.added or self.already or self.unsubscribed)


def read_subscriber_file(path: Path) -> list[tuple[str, str]]:
    """(address, name) rows of a CSV file as spreadsheets export it; one clear error if it is not one."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise FeedkitError(f"{path}: cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError:
        raise FeedkitError(f"{path}: is not UTF-8 text", 'save it as UTF-8 ("CSV UTF-8") and import again') from None
    try:
        return read_subscriber_rows(text).rows
    except NoAddressColumnError as exc:
        raise FeedkitError(f"{path}: {exc}", "check that it is the subscriber list") from None


HEADER_NAMES = frozenset({"email", "e-mail", "address", "email address"})


def import_subscribers(config: Config, rows: Iterable[list[str]]) -> ImportReport:
    """Rows of (email[, name]), in one transaction; a header row is skipped; unsubscribed stay out."""
    report = ImportReport()
    new: dict[str, tuple[str, str, str]] = {}
    with open_store(config) as store:
        known = {subscriber.address.lower(): subscriber.status for subscriber in mailstate.list_subscribers(store)}
        for row in rows:
            if not row or not row[0].strip() or row[0].strip().lower() in HEADER_NAMES:
                continue
            try:
                key, normalized = normalize_address(row[0])
            except SubscriberError:
                report.invalid.append(row[0])
                continue
            if known.get(key) == mailstate.UNSUBSCRIBED:
                report.unsubscribed += 1
            elif key in known or key in new:
                report.already += 1
            else:
                new[key] = (key, normalized, " ".join(row[1].split()) if len(row) > 1 else "")
        mailstate.insert_subscribers(store, list(new.values()))
    report.added = len(new)
    return report


def export_subscribers(config: Config, out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(["email", "name", "status", "subscribed_at", "unsubscribed_at"])
    subscribers = list_subscribers(config)
    for subscriber in subscribers:
        writer.writerow([subscriber.address, subscriber.name, subscriber.status, subscriber.subscribed_at,
                         subscriber.unsubscribed_at or ""])  # fmt: skip
    return len(subscribers)
