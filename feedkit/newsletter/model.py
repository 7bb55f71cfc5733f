"""The newsletter's model: subscribers and their statuses, digests as frozen, deliveries.

Frozen dataclasses and enums; no I/O. Statuses are stored as their string values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DigestContent:
    """A digest rendered once for everyone; each recipient's unsubscribe link is filled in at send
    time."""

    subject: str
    html: str
    text: str
    sources: tuple[str, ...]  # the reviews in it, newest first
    since: datetime  # it holds reviews that became public after this moment
    archive_url: str  # the copy anyone can read in a browser


class SubscriberStatus(enum.StrEnum):
    """Where a subscriber stands; only an active one is ever mailed a digest."""

    PENDING = "pending"  # asked to join, not confirmed yet
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"  # suppressed: the address does not take mail
    COMPLAINED = "complained"  # suppressed: the reader marked a digest as spam

    @property
    def suppressed(self) -> bool:
        """Never mailed again, and never brought back by an import."""
        return self in (
            SubscriberStatus.UNSUBSCRIBED,
            SubscriberStatus.BOUNCED,
            SubscriberStatus.COMPLAINED,
        )


class DeliveryStatus(enum.StrEnum):
    """Where one recipient's copy of one digest stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # the subscriber left after the digest was frozen
    UNKNOWN = "unknown"  # the whole message went out and no reply came: retried once, later


UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address on the list, as the state database keeps it; times are ISO 8601 text."""

    address: str
    name: str
    status: str
    subscribed_at: str
    unsubscribed_at: str | None
    confirmed_at: str | None = None
    paused_until: str | None = None  # no digest is made for it until then
    source: str = ""  # how it joined: "web", "cli", "import"
    confirm_requested_at: str | None = None  # the open request a confirmation link answers
    confirm_sent_at: str | None = None  # the last confirmation mail, for the per-address limit
    topics: tuple[str, ...] = ()  # none: everything


class Request(enum.StrEnum):
    """What a subscribe request from the site leads to; the reader is told the same every time."""

    CONFIRM = "confirm"  # mail a confirmation link
    WELCOME = "welcome"  # confirmed opt-in is off: subscribed at once
    REMIND = "remind"  # already subscribed: mail a note with the link to their preferences
    QUIET = "quiet"  # mail nothing: a mail went out too recently, or the address complained


class Confirmation(enum.StrEnum):
    """What following a confirmation link did."""

    CONFIRMED = "confirmed"
    ALREADY = "already"  # it was active already
    STALE = "stale"  # the request it answered is gone: unsubscribed since, or forgotten


@dataclass(frozen=True, slots=True)
class Audience:
    """An active subscriber as a digest run sees it: who, and what they chose."""

    email_key: str
    topics: frozenset[str]  # empty: everything


@dataclass(frozen=True, slots=True)
class FrozenDigest:
    """A digest as created: its reviews and rendered bodies never change afterwards."""

    id: int
    created_at: datetime
    content: DigestContent
    nonce: str = ""  # random per digest, part of every Message-ID; "" for digests made before it


@dataclass(frozen=True, slots=True)
class Delivery:
    email_key: str
    address: str
    attempts: int
    status: str = DeliveryStatus.PENDING


@dataclass(frozen=True, slots=True)
class DigestStatus:
    """How far a digest got: counts by delivery status, and why the failures failed; the bounces
    and complaints that came back about it."""

    id: int
    created_at: str
    subject: str
    reviews: int
    counts: dict[str, int]
    errors: tuple[tuple[str, str], ...]
    run_id: int = 0  # the run's first digest: a run makes one digest per distinct set of reviews
    segment: str = ""  # whose digest it is: "" for every review of the run, else topic names

    @property
    def recipients(self) -> int:
        return sum(self.counts.values())

    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0

    @property
    def complaint_rate(self) -> float | None:
        """Complaints per message delivered; None before any was."""
        sent = self.counts.get(DeliveryStatus.SENT, 0)
        return self.complaints / sent if sent else None

    @property
    def above_complaint_line(self) -> bool:
        rate = self.complaint_rate
        return rate is not None and rate > COMPLAINT_RATE_LINE


# Gmail and Yahoo turn bulk mail away from a sender whose readers mark more than this share of it
# as spam.
COMPLAINT_RATE_LINE = 0.003


class BounceKind(enum.StrEnum):
    """What a returned message says about one recipient, as far as suppression goes."""

    HARD = "hard_bounce"  # the address does not take mail
    SOFT = "soft_bounce"  # not now: a full mailbox, a server away for days
    COMPLAINT = "complaint"  # the reader marked a digest as spam


class FoundBy(enum.StrEnum):
    """How a report was traced to a subscriber, surest first."""

    TOKEN = "token"  # noqa: S105 - the signed token in the bounce address (VERP)
    MESSAGE_ID = "message-id"  # the original's Message-ID, signed per digest and recipient
    ADDRESS = "address"  # only the address the report names: no digest known
    SMTP_REPLY = "smtp-reply"  # refused during the conversation itself: no report to trace


@dataclass(frozen=True, slots=True)
class BounceEvent:
    """One bounce or complaint, traced to one subscriber (and the digest, where known)."""

    email_key: str
    digest_id: int | None
    kind: BounceKind
    found_by: FoundBy
    occurred_at: datetime
    status: str | None = None  # the enhanced status code, "5.1.1"
    diagnostic: str | None = None


@dataclass(frozen=True, slots=True)
class KeptMessage:
    """A returned message set aside unread for an editor: not understood, or traced to nobody."""

    received_at: str
    file_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Suppression:
    """A subscriber suppressed by what came back, and what they were before."""

    email_key: str
    address: str
    status: SubscriberStatus
    before: SubscriberStatus
    since: str
