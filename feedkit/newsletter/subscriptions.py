"""Who gets the digest, as editors manage it: adding, importing, listing, exporting, removing,
resending a confirmation. An address that left (or bounced, or complained, or asked to be
forgotten) is never brought back by an import or an editor's add: only by the reader confirming
again. Readers' own requests are in feedkit.newsletter.readers.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from feedkit.config import Config
from feedkit.errors import FeedkitError, SubscriberError
from feedkit.hooks import Event, call_hooks
from feedkit.mail.transports import Transport
from feedkit.newsletter.csvfiles import NoAddressColumnError, SubscriberRow, read_subscriber_rows
from feedkit.newsletter.messages import sender_address
from feedkit.newsletter.model import Subscriber, SubscriberStatus
from feedkit.newsletter.notices import Notice, NoticeKind, notice_message, topic_titles
from feedkit.store import subscribers as records
from feedkit.store.db import Store, open_store
from feedkit.tokens import Tokens, secret_from_environment

Transports = Callable[[], Transport]
# How other newsletter services name the statuses in their exports.
IMPORTED_STATUSES = {
    "": SubscriberStatus.ACTIVE,
    "active": SubscriberStatus.ACTIVE,
    "subscribed": SubscriberStatus.ACTIVE,
    "confirmed": SubscriberStatus.ACTIVE,
    "pending": SubscriberStatus.PENDING,
    "unconfirmed": SubscriberStatus.PENDING,
    "unsubscribed": SubscriberStatus.UNSUBSCRIBED,
    "bounced": SubscriberStatus.BOUNCED,
    "cleaned": SubscriberStatus.BOUNCED,
    "complained": SubscriberStatus.COMPLAINED,
    "spam": SubscriberStatus.COMPLAINED,
}
_TOPIC_SEPARATORS = re.compile(r"[\s,;|]+")


def normalize_address(address: str) -> tuple[str, str]:
    """(key, address): the address as email-validator normalizes it, and its lower-case key."""
    import email_validator  # noqa: PLC0415 - 15 ms to import; most commands never need it

    try:
        # allow_smtputf8=False: every address must be one any SMTP server takes (ASCII local part;
        # an international domain is kept in its ASCII form).
        valid = email_validator.validate_email(
            address.strip(), check_deliverability=False, allow_smtputf8=False
        )
    except email_validator.EmailNotValidError as exc:
        raise SubscriberError(f"{address!r} is not a valid e-mail address ({exc})") from None
    ascii_address = valid.ascii_email or valid.normalized
    return ascii_address.lower(), ascii_address


def forgotten_hash(email_key: str) -> str:
    """What feedkit keeps of an address that asked to be forgotten: enough to recognise it."""
    return hashlib.sha256(f"feedkit-forgotten\0{email_key}".encode()).hexdigest()


def known_topics(config: Config, names: Iterable[str]) -> tuple[str, ...]:
    """The names among these that are topics of the site, each once, in the site's order."""
    wanted = set(names)
    return tuple(topic.name for topic in config.topics if topic.name in wanted)


# -- editors ------------------------------------------------------------------------------------


def add_subscriber(
    config: Config,
    address: str,
    name: str = "",
    *,
    confirmed: bool,
    transports: Transports | None = None,
) -> bool:
    """Subscribe an address (False if it is on the list already); one that left is refused.

    `confirmed`: the editor has the reader's consent, so the address is active at once; else it
    waits for the reader to follow the confirmation link mailed through `transports`.
    """
    key, normalized = normalize_address(address)
    status = SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING
    now = datetime.now(UTC)
    with open_store(config) as store:
        _refuse_if_kept_out(store, key, normalized)
        if records.find_subscriber(store, key) is not None:
            return False
        row = records.NewSubscriber(key, normalized, " ".join(name.split()), status=status)
        records.insert_subscribers(store, [row], now, "cli")
    _after_adding(config, [row], transports, now)
    return True


def _refuse_if_kept_out(store: Store, key: str, address: str) -> None:
    existing = records.find_subscriber(store, key)
    if existing is not None and SubscriberStatus(existing.status).suppressed:
        raise SubscriberError(
            f"{address} {existing.status} on {existing.unsubscribed_at or existing.subscribed_at}",
            "feedkit never mails it again; only the reader can subscribe again, from the site",
        )
    if records.is_forgotten(store, forgotten_hash(key)):
        raise SubscriberError(
            f"{address} asked to be forgotten",
            "only the reader can subscribe again, from the site",
        )


def _after_adding(
    config: Config,
    rows: Iterable[records.NewSubscriber],
    transports: Transports | None,
    now: datetime,
) -> int:
    """Confirmation mails for those who must confirm, and the hooks; how many mails went."""
    mailed = 0
    for row in rows:
        if row.status is SubscriberStatus.PENDING and transports is not None:
            mailed += send_confirmation(config, row.address, transports, now)
        if row.status in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
            call_hooks(config, Event("subscribe", row.address, now, row.topics, "cli"))
    return mailed


def send_confirmation(
    config: Config, address: str, transports: Transports, now: datetime | None = None
) -> bool:
    """Mail a confirmation link to an address that may confirm (pending, or one that left and
    did not complain); False if it may not. An editor's resend ignores the per-address limit."""
    moment = now or datetime.now(UTC)
    key, normalized = normalize_address(address)
    with open_store(config) as store:
        request = records.note_confirmation_mail(store, key, moment)
        subscriber = records.find_subscriber(store, key)
    if request is None or subscriber is None:
        return False
    titles = topic_titles(config, subscriber.topics)
    notice = Notice(NoticeKind.CONFIRM, normalized, titles, request)
    mail_notice(config, notice, transports, moment)
    return True


def mail_notice(config: Config, notice: Notice, transports: Transports, now: datetime) -> None:
    """Send one notice through a transport of its own."""
    tokens = Tokens(secret_from_environment())
    message = notice_message(config, tokens, notice, now)
    with transports() as transport:
        transport.send(sender_address(config), message)


def remove_subscriber(config: Config, address: str) -> bool:
    key, normalized = normalize_address(address)
    now = datetime.now(UTC)
    with open_store(config) as store:
        removed = records.unsubscribe(store, key, now)
    if removed:
        call_hooks(config, Event("unsubscribe", normalized, now, source="cli"))
    return removed


def list_subscribers(config: Config, status_filter: str | None = None) -> list[Subscriber]:
    with open_store(config, readonly=True) as store:
        return records.list_subscribers(store, status_filter)


def count_active(config: Config) -> int:
    with open_store(config, readonly=True) as store:
        return records.count_subscribed(store)


@dataclass(frozen=True, slots=True)
class ListCounts:
    """The list at a glance, for the editors' page."""

    by_status: dict[str, int]
    by_topic: dict[str, int]  # active subscribers per topic name; "" for everything


def list_counts(config: Config) -> ListCounts:
    with open_store(config, readonly=True) as store:
        return ListCounts(records.counts_by_status(store), records.active_counts_by_topic(store))


# -- import and export --------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    already: int = 0
    unsubscribed: int = 0
    invalid: list[str] = field(default_factory=list)
    pending: int = 0  # added as waiting for their reader's confirmation
    confirmations: int = 0  # confirmation mails sent
    suppressed: int = 0  # added as unsubscribed, bounced or complained: kept out from now on
    unknown_topics: set[str] = field(default_factory=set)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.already} already subscribed, "
            f"{self.unsubscribed} kept out (unsubscribed earlier), {len(self.invalid)} invalid"
        )

    @property
    def found_any(self) -> bool:
        """At least one row held a valid address, new or not."""
        return bool(self.added or self.already or self.unsubscribed)


def read_subscriber_file(path: Path) -> list[SubscriberRow]:
    """The rows of a CSV file as spreadsheets export it; one clear error if it is not one."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise FeedkitError(f"{path}: cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError:
        hint = 'save it as UTF-8 ("CSV UTF-8") and import again'
        raise FeedkitError(f"{path}: is not UTF-8 text", hint) from None
    try:
        return read_subscriber_rows(text).rows
    except NoAddressColumnError as exc:
        raise FeedkitError(f"{path}: {exc}", "check that it is the subscriber list") from None


def import_subscribers(
    config: Config,
    rows: Iterable[SubscriberRow],
    *,
    confirmed: bool,
    transports: Transports | None = None,
) -> ImportReport:
    """Add the rows' new addresses in one transaction; those who left or asked to be forgotten
    stay out. A row's status (from another service's export) is kept: an unsubscribed one is
    added as such, so it stays out too. Without `confirmed`, an active row waits for its reader
    to confirm, and is mailed a link through `transports`."""
    report = ImportReport()
    now = datetime.now(UTC)
    with open_store(config) as store:
        new = _new_rows(config, store, rows, report, confirmed=confirmed)
        records.insert_subscribers(store, list(new.values()), now, "import")
    report.added = len(new)
    report.pending = sum(row.status is SubscriberStatus.PENDING for row in new.values())
    report.suppressed = sum(row.status.suppressed for row in new.values())
    report.confirmations = _after_adding(config, new.values(), transports, now)
    return report


def _new_rows(
    config: Config,
    store: Store,
    rows: Iterable[SubscriberRow],
    report: ImportReport,
    *,
    confirmed: bool,
) -> dict[str, records.NewSubscriber]:
    known = {s.address.lower(): s.status for s in records.list_subscribers(store)}
    new: dict[str, records.NewSubscriber] = {}
    for row in rows:
        candidate = _imported(config, row, report, confirmed=confirmed)
        if candidate is None:
            continue
        key = candidate.key
        kept_out = records.is_forgotten(store, forgotten_hash(key))
        if kept_out or (key in known and SubscriberStatus(known[key]).suppressed):
            report.unsubscribed += 1
        elif key in known or key in new:
            report.already += 1
        else:
            new[key] = candidate
    return new


def _imported(
    config: Config, row: SubscriberRow, report: ImportReport, *, confirmed: bool
) -> records.NewSubscriber | None:
    """A row as a new subscriber; None (and noted in the report) when it cannot be one."""
    status = IMPORTED_STATUSES.get(row.status.strip().lower())
    try:
        key, normalized = normalize_address(row.address)
    except SubscriberError:
        report.invalid.append(row.address)
        return None
    if status is None:
        report.invalid.append(f"{row.address} (status {row.status!r})")
        return None
    if status is SubscriberStatus.ACTIVE and not confirmed:
        status = SubscriberStatus.PENDING
    names = [name.lower() for name in _TOPIC_SEPARATORS.split(row.topics) if name]
    topics = known_topics(config, names)
    report.unknown_topics.update(set(names) - set(topics))
    return records.NewSubscriber(key, normalized, " ".join(row.name.split()), topics, status)


def export_subscribers(config: Config, out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(
        ["email", "name", "status", "subscribed_at", "unsubscribed_at", "topics", "source"]
    )
    subscribers = list_subscribers(config)
    for subscriber in subscribers:
        writer.writerow(
            [
                subscriber.address,
                subscriber.name,
                subscriber.status,
                subscriber.subscribed_at,
                subscriber.unsubscribed_at or "",
                " ".join(subscriber.topics),
                subscriber.source,
            ]
        )
    return len(subscribers)
