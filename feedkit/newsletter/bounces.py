"""Returned mail's use cases: reading bounces and complaints, tracing each to the subscriber and
digest it is about, suppressing by the rules, lifting a suppression, and what the status shows.

A report is traced by the signed token in the bounce address first, then by the signed
Message-ID of the original, then by the address it names; one that cannot be understood, or names
nobody on the list, is kept aside for an editor, never guessed at.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedkit.bounceparse import Kind, Report, classify, read_refusal
from feedkit.config import Config
from feedkit.errors import SubscriberError
from feedkit.mail.mailboxes import Incoming, Mailbox
from feedkit.newsletter.messages import message_id_signature, recipient_reference
from feedkit.newsletter.model import (
    BounceEvent,
    BounceKind,
    FoundBy,
    SubscriberStatus,
    Suppression,
)
from feedkit.newsletter.subscriptions import normalize_address
from feedkit.output import write_atomic
from feedkit.store import bounces as records
from feedkit.store.db import Store, open_store
from feedkit.tokens import Purpose, Tokens, secret_from_environment
from feedkit.words import plural

_KINDS = {
    Kind.HARD_BOUNCE: BounceKind.HARD,
    Kind.SOFT_BOUNCE: BounceKind.SOFT,
    Kind.COMPLAINT: BounceKind.COMPLAINT,
}
_IGNORED = frozenset({Kind.AUTO_REPLY, Kind.DELAY})


@dataclass(frozen=True, slots=True)
class Rules:
    """When bounces suppress an address; a complaint always does, at once."""

    hard_bounces: int
    soft_bounces: int
    soft_window: timedelta

    @classmethod
    def of(cls, config: Config) -> Rules:
        settings = config.bounces
        return cls(
            settings.hard_bounces,
            settings.soft_bounces,
            timedelta(days=settings.soft_window_days),
        )


@dataclass(slots=True)
class IngestReport:
    """What one `bounces ingest` did."""

    kept_dir: Path
    read: int = 0
    already: int = 0  # read by an earlier run
    bounces: int = 0  # bounces traced to a subscriber
    complaints: int = 0
    ignored: int = 0  # auto-replies and delay notices
    kept: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)
    suppressed: list[Suppression] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Read {plural(self.read, 'message')}: {plural(self.bounces, 'bounce')}, "
            f"{plural(self.complaints, 'complaint')}, {self.ignored} ignored (auto-replies, "
            f"delay notices), {len(self.kept)} kept aside, {self.already} read before."
        )


def ingest(config: Config, mailbox: Mailbox, now: datetime | None = None) -> IngestReport:
    """Read every message in `mailbox`, record what each says, and suppress by the rules; each
    message is acknowledged to the mailbox once it is recorded."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    tokens = Tokens(secret_from_environment())
    report = IngestReport(config.kept_bounces_dir)
    with open_store(config) as store, mailbox:
        reader = _Reader(config, store, Tracer(store, tokens), Rules.of(config), report)
        for incoming in mailbox.messages():
            reader.read(incoming, moment)
            mailbox.done(incoming)
    return report


@dataclass(slots=True)
class _Reader:
    """Records one message after another, counting in the report what became of each."""

    config: Config
    store: Store
    tracer: Tracer
    rules: Rules
    report: IngestReport

    def read(self, incoming: Incoming, now: datetime) -> None:
        """Ignore it, keep it aside, or record the bounces it reports and apply the rules."""
        self.report.read += 1
        key = hashlib.sha256(incoming.data).hexdigest()
        if records.was_read(self.store, key):
            self.report.already += 1
            return
        parsed = classify(incoming.data)
        kind = _KINDS.get(parsed.kind)
        if parsed.kind in _IGNORED:
            self.report.ignored += 1
            self._record(key, now, "ignored", parsed, parsed.reason)
        elif kind is None:
            self._keep(incoming, key, now, parsed, parsed.reason)
        else:
            self._trace(incoming, key, now, parsed, kind)

    def _trace(
        self, incoming: Incoming, key: str, now: datetime, parsed: Report, kind: BounceKind
    ) -> None:
        traced = self.tracer.trace(parsed)
        if not traced:
            why = f"{parsed.reason}; {self.tracer.why_not(parsed)}"
            self._keep(incoming, key, now, parsed, why)
            return
        occurred = min(parsed.date or now, now)  # a report dated in the future counts as now
        events = [_event(kind, trace, occurred, parsed) for trace in traced]
        self._record(key, now, "recorded", parsed, parsed.reason, events=events)
        for event in events:
            self._count(event.kind)
            self._apply_rules(event.email_key, event.kind, now)

    def _count(self, kind: BounceKind) -> None:
        if kind is BounceKind.COMPLAINT:
            self.report.complaints += 1
        else:
            self.report.bounces += 1

    def _keep(self, incoming: Incoming, key: str, now: datetime, parsed: Report, why: str) -> None:
        """Set the message aside, as it came, for an editor to read."""
        name = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{key[:16]}.eml"
        write_atomic(self.config.kept_bounces_dir / name, incoming.data)
        self.report.kept.append((name, why))
        self._record(key, now, "kept", parsed, why, kept_file=name)

    def _record(
        self,
        key: str,
        now: datetime,
        outcome: str,
        parsed: Report,
        why: str,
        *,
        events: list[BounceEvent] | None = None,
        kept_file: str | None = None,
    ) -> None:
        message = records.ReadMessage(key, now, outcome, parsed.kind, why, kept_file)
        records.record_message(self.store, message, events or [])

    def _apply_rules(self, email_key: str, kind: BounceKind, now: datetime) -> None:
        done = apply_rules(self.store, self.rules, email_key, kind, now)
        if done is not None:
            self.report.suppressed.append(done)


def apply_rules(
    store: Store, rules: Rules, email_key: str, kind: BounceKind, now: datetime
) -> Suppression | None:
    """Suppress the subscriber if this bounce or complaint, with those before it, calls for it."""
    if kind is BounceKind.COMPLAINT:
        return records.suppress(store, email_key, SubscriberStatus.COMPLAINED, now)
    if kind is BounceKind.HARD:
        count = records.count_bounces(store, email_key, kind, None)
        enough = count >= rules.hard_bounces
    else:
        count = records.count_bounces(store, email_key, kind, now - rules.soft_window)
        enough = count >= rules.soft_bounces
    return records.suppress(store, email_key, SubscriberStatus.BOUNCED, now) if enough else None


def record_refusals(
    config: Config, store: Store, digest_id: int, refused: list[tuple[str, str]], now: datetime
) -> list[Suppression]:
    """Recipients the server refused during the conversation (5xx to RCPT) are bounces as sure
    as any that comes back as mail, read by the same rules: hard when the reply condemns the
    address, soft otherwise. Each delivery's refusal counts once, however often it is recorded."""
    rules, suppressed = Rules.of(config), []
    for email_key, reply in refused:
        event = _refusal(digest_id, email_key, reply, now)
        key = hashlib.sha256(f"smtp-refusal\0{digest_id}\0{email_key}".encode()).hexdigest()
        message = records.ReadMessage(key, now, "recorded", "smtp_refusal", reply, None)
        records.record_message(store, message, [event])
        done = apply_rules(store, rules, email_key, event.kind, now)
        if done is not None:
            suppressed.append(done)
    return suppressed


def _refusal(digest_id: int, email_key: str, reply: str, now: datetime) -> BounceEvent:
    kind, code = read_refusal(reply)
    return BounceEvent(email_key, digest_id, _KINDS[kind], FoundBy.SMTP_REPLY, now, code, reply)


def _event(kind: BounceKind, trace: Trace, occurred: datetime, parsed: Report) -> BounceEvent:
    return BounceEvent(
        trace.email_key,
        trace.digest_id,
        kind,
        trace.found_by,
        occurred,
        parsed.status,
        parsed.diagnostic,
    )


# -- tracing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trace:
    email_key: str
    digest_id: int | None
    found_by: FoundBy


# A bounce token in a local part: the digest, the recipient's reference, the signature.
_TOKEN = re.compile(r"(?<![0-9a-z])(\d{1,9}\.[0-9a-f]{16}\.[a-z2-7]{16})(?![0-9a-z])")
_DIGEST_ID = re.compile(r"<digest-(\d{1,9})\.(?:([0-9a-f]{8})\.)?([0-9a-f]{20})@")


class Tracer:
    """Finds whom a report is about, surest way first; each digest's recipients are worked out
    once per run, however many of its bounces come back."""

    def __init__(self, store: Store, tokens: Tokens) -> None:
        self.store = store
        self.tokens = tokens
        self.references: dict[int, dict[str, str]] = {}
        self.signatures: dict[int, dict[str, str]] = {}

    def trace(self, report: Report) -> list[Trace]:
        for found in (self._by_token(report), self._by_message_id(report)):
            if found is not None:
                return [found]
        return self._by_address(report)

    def why_not(self, report: Report) -> str:
        """Why a bounce or complaint was traced to nobody, for the editor who reads it."""
        named = ", ".join(report.recipients)
        whom = f"no subscriber is {named}" if named else "it names no address"
        return f"traced to nobody: no token or Message-ID of this site's in it, and {whom}"

    def _by_token(self, report: Report) -> Trace | None:
        for address in (*report.envelope_to, *report.original_senders):
            for token in _TOKEN.findall(address.rpartition("@")[0].lower()):
                subject = self.tokens.read(Purpose.BOUNCE, token)
                if subject is None:
                    continue
                digest, _, reference = subject.partition(".")
                email_key = self._references(int(digest)).get(reference)
                if email_key is not None:
                    return Trace(email_key, int(digest), FoundBy.TOKEN)
        return None

    def _by_message_id(self, report: Report) -> Trace | None:
        found = _DIGEST_ID.match((report.original_message_id or "").lower())
        if found is None:
            return None
        digest, nonce, signature = int(found.group(1)), found.group(2) or "", found.group(3)
        if records.digest_nonce(self.store, digest) != nonce:
            return None  # a digest of another database, or of another site
        email_key = self._signatures(digest, nonce).get(signature)
        return None if email_key is None else Trace(email_key, digest, FoundBy.MESSAGE_ID)

    def _by_address(self, report: Report) -> list[Trace]:
        keys = (_key(address) for address in report.recipients)
        known = [key for key in keys if key and records.standing(self.store, key) is not None]
        return [Trace(key, None, FoundBy.ADDRESS) for key in dict.fromkeys(known)]

    def _references(self, digest: int) -> dict[str, str]:
        if digest not in self.references:
            recipients = records.digest_recipients(self.store, digest)
            self.references[digest] = {recipient_reference(key): key for key in recipients}
        return self.references[digest]

    def _signatures(self, digest: int, nonce: str) -> dict[str, str]:
        if digest not in self.signatures:
            secret = self.tokens.secret
            self.signatures[digest] = {
                message_id_signature(secret, digest, nonce, key): key
                for key in records.digest_recipients(self.store, digest)
            }
        return self.signatures[digest]


def _key(address: str) -> str | None:
    """The subscriber key of an address a report names; None for one no subscriber can have."""
    try:
        return normalize_address(address)[0]
    except SubscriberError:
        return None


# -- lifting a suppression, and what an editor sees ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Lifted:
    """A suppression an editor lifted: what the subscriber was, and is again."""

    address: str
    was: SubscriberStatus
    since: str
    now: SubscriberStatus
    events: dict[BounceKind, int]


def unsuppress(config: Config, address: str) -> Lifted:
    """Give a bounced or complained subscriber back the status they had before; their earlier
    bounces no longer count. A reader's own unsubscribe is not an editor's to undo."""
    key, normalized = normalize_address(address)
    with open_store(config) as store:
        found = records.standing(store, key)
        if found is None:
            raise SubscriberError(f"{normalized} is not on the list", "check the address")
        status = found.status
        if status not in (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED):
            hint = "only they can subscribe again" if status.suppressed else "nothing to lift"
            raise SubscriberError(f"{found.address} is {status}, not suppressed by a bounce", hint)
        held = records.suppression(store, key) or Suppression(
            key, found.address, status, SubscriberStatus.ACTIVE, found.since or ""
        )
        events = records.events_of(store, key)
        if not records.lift(store, held):
            raise SubscriberError(f"{found.address} changed meanwhile", "run the command again")
    return Lifted(found.address, status, held.since, held.before, events)
