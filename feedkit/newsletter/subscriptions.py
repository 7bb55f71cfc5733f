"""Who gets the digest: adding, importing, listing, exporting and removing subscribers, and the
one-click unsubscribe. An address that left (or bounced, or complained) is never brought back by
an import or an editor's add: only by the reader confirming again."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from feedkit.config import Config
from feedkit.errors import FeedkitError, SubscriberError
from feedkit.newsletter.csvfiles import NoAddressColumnError, read_subscriber_rows
from feedkit.newsletter.model import Subscriber, SubscriberStatus
from feedkit.store import newsletter as records
from feedkit.store.db import open_store
from feedkit.tokens import Purpose, Tokens, secret_from_environment


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


def add_subscriber(config: Config, address: str, name: str = "") -> bool:
    """Subscribe an address (False if it already was); one that left is refused."""
    key, normalized = normalize_address(address)
    with open_store(config) as store:
        existing = records.find_subscriber(store, key)
        if existing is not None and SubscriberStatus(existing.status).suppressed:
            raise SubscriberError(
                f"{normalized} {existing.status} on {existing.unsubscribed_at}",
                "feedkit never mails it again",
            )
        if existing is not None:
            return False
        records.insert_subscribers(store, [(key, normalized, " ".join(name.split()))])
    return True


def remove_subscriber(config: Config, address: str) -> bool:
    key, _ = normalize_address(address)
    with open_store(config) as store:
        return records.unsubscribe(store, key)


def unsubscribe_with_token(config: Config, token: str) -> tuple[str, bool] | None:
    """Unsubscribe the address a genuine unsubscribe token names: (address, whether it was
    subscribed until now); None for any other token. Unsubscribing twice is harmless."""
    address = Tokens(secret_from_environment()).read(Purpose.UNSUBSCRIBE, token)
    if address is None:
        return None
    with open_store(config) as store:
        return address, records.unsubscribe(store, address.lower())


def address_of_token(token: str) -> str | None:
    """The address an unsubscribe token names, without acting on it (the page before the
    button)."""
    return Tokens(secret_from_environment()).read(Purpose.UNSUBSCRIBE, token)


def list_subscribers(config: Config, status_filter: str | None = None) -> list[Subscriber]:
    with open_store(config, readonly=True) as store:
        return records.list_subscribers(store, status_filter)


def count_active(config: Config) -> int:
    with open_store(config, readonly=True) as store:
        return records.count_subscribed(store)


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
    """(address, name) rows of a CSV file as spreadsheets export it; one clear error if not one."""
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


HEADER_NAMES = frozenset({"email", "e-mail", "address", "email address"})


def import_subscribers(config: Config, rows: Iterable[Sequence[str]]) -> ImportReport:
    """Rows of (email[, name]), in one transaction; a header row is skipped; those who left stay
    out."""
    report = ImportReport()
    new: dict[str, tuple[str, str, str]] = {}
    with open_store(config) as store:
        known = {s.address.lower(): s.status for s in records.list_subscribers(store)}
        for row in rows:
            if not row or not row[0].strip() or row[0].strip().lower() in HEADER_NAMES:
                continue
            try:
                key, normalized = normalize_address(row[0])
            except SubscriberError:
                report.invalid.append(row[0])
                continue
            if key in known and SubscriberStatus(known[key]).suppressed:
                report.unsubscribed += 1
            elif key in known or key in new:
                report.already += 1
            else:
                new[key] = (key, normalized, " ".join(row[1].split()) if len(row) > 1 else "")
        records.insert_subscribers(store, list(new.values()))
    report.added = len(new)
    return report


def export_subscribers(config: Config, out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(["email", "name", "status", "subscribed_at", "unsubscribed_at"])
    subscribers = list_subscribers(config)
    for subscriber in subscribers:
        writer.writerow(
            [
                subscriber.address,
                subscriber.name,
                subscriber.status,
                subscriber.subscribed_at,
                subscriber.unsubscribed_at or "",
            ]
        )
    return len(subscribers)
