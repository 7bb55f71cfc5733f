"""Sending a frozen digest to its pending recipients: connections, rate, retries, state per
message.

A recipient is marked sent right after the server accepts the message, in its own transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from feedkit.config import Config
from feedkit.errors import (
    ConnectionProblemError,
    DeliveryError,
    MessageRejectedError,
    OutcomeUnknownError,
    PermanentDeliveryError,
    SendStoppedError,
    TransientDeliveryError,
)
from feedkit.mail.message import OutgoingMessage
from feedkit.mail.transports import Transport
from feedkit.newsletter.model import Delivery, DeliveryStatus, FrozenDigest


class Messages(Protocol):
    """Builds each recipient's message of one digest."""

    sender: str

    def build(self, address: str) -> OutgoingMessage: ...

    def envelope_sender(self, address: str) -> str: ...


class DeliveryLog(Protocol):
    """Where each outcome is recorded the moment it is known; a context manager per thread."""

    def __enter__(self) -> DeliveryLog: ...

    def __exit__(self, *exc: object) -> None: ...

    def is_active(self, email_key: str) -> bool: ...

    def mark(
        self, delivery: Delivery, status: str, error: str | None, *, count_run: bool
    ) -> None: ...


RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds before each retry of one message
GIVE_UP_AFTER_RUNS = 3  # a recipient still refused with 4xx after this many runs is marked failed
FILE_WRITERS = (
    4  # threads writing .eml files: creating and fsyncing files waits on the disk, not the CPU
)
DEFERRED = "deferred"  # still pending after this run's attempts: the next run tries again
# Timeouts or lost connections in a row, over every connection, after which the server is taken
# to be down: the run stops at once instead of waiting out every recipient's attempts.
BREAKER_LIMIT = 3


@dataclass(slots=True)
class SendReport:
    """What one run did with one digest."""

    digest_id: int
    counts: dict[str, int] = field(
        default_factory=lambda: {
            DeliveryStatus.SENT: 0,
            DeliveryStatus.FAILED: 0,
            DEFERRED: 0,
            DeliveryStatus.UNKNOWN: 0,
            DeliveryStatus.SKIPPED: 0,
        }
    )
    errors: list[tuple[str, str]] = field(default_factory=list)
    # (email key, reply) of each recipient the server refused with a 5xx to RCPT: a bounce
    refused: list[tuple[str, str]] = field(default_factory=list)
    stopped: str | None = None  # why the run ended early, if it did

    def summary(self) -> str:
        counts = self.counts
        line = (
            f"digest {self.digest_id}: {counts[DeliveryStatus.SENT]} sent, "
            f"{counts[DeliveryStatus.FAILED]} failed, "
            f"{counts[DEFERRED]} deferred, {counts[DeliveryStatus.UNKNOWN]} unknown, "
            f"{counts[DeliveryStatus.SKIPPED]} skipped (unsubscribed)"
        )
        return f"{line}; stopped early: {self.stopped}" if self.stopped else line

    @property
    def delivered_nothing(self) -> bool:
        """Messages were tried and none was accepted."""
        tried = (
            self.counts[DeliveryStatus.FAILED]
            + self.counts[DEFERRED]
            + self.counts[DeliveryStatus.UNKNOWN]
        )
        return tried > 0 and self.counts[DeliveryStatus.SENT] == 0


def stopped_error(reports: list[SendReport]) -> SendStoppedError | None:
    """The error a run amounts to when it stopped early or delivered nothing at all; else None."""
    for report in reports:
        if report.stopped:
            hint = "what was not sent stays pending; 'feedkit digest status' shows it"
            return SendStoppedError(report.stopped, hint)
    if reports and all(report.delivered_nothing for report in reports):
        summaries = "; ".join(report.summary() for report in reports)
        hint = "'feedkit digest status' shows why"
        return SendStoppedError(f"no message was delivered: {summaries}", hint)
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one message in this run."""

    status: str
    error: str | None = None
    counts_as_run: bool = True  # False when the server never answered: not the recipient's doing
    refused: bool = False  # the server refused this recipient (5xx to RCPT)


class RateLimiter:
    """At most `per_second` messages a second across every connection; 0 means no limit."""

    def __init__(self, per_second: int) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.next_slot = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        time.sleep(max(0.0, slot - now))


class CircuitBreaker:
    """Counts timeouts and lost connections in a row, over every connection; any reply resets
    it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_a_row = 0
        self.last_error = ""
        self.lock = threading.Lock()

    def failed(self, error: DeliveryError) -> None:
        with self.lock:
            self.in_a_row += 1
            self.last_error = str(error)

    def answered(self) -> None:
        with self.lock:
            self.in_a_row = 0

    @property
    def open(self) -> bool:
        return self.in_a_row >= self.limit

    def reason(self) -> str:
        return (
            f"{self.in_a_row} timeouts or lost connections in a row, so the mail server is taken "
            f"to be down (last: {self.last_error})"
        )


@dataclass(slots=True)
class Sender:
    """Sends one digest over `connections` transports at once, recording each outcome as it
    happens.

    `stop` is the caller's (SIGTERM, say): it is only read. A failure inside the send sets `halt`,
    which stops every thread of this send and nothing else.
    """

    config: Config
    digest: FrozenDigest
    builder: Messages
    open_transport: Callable[[], Transport]
    open_log: Callable[[], DeliveryLog]
    on_result: Callable[[str], None] = lambda _status: None
    stop: threading.Event = field(default_factory=threading.Event)
    halt: threading.Event = field(default_factory=threading.Event)
    report: SendReport = field(init=False)
    failure: BaseException | None = None  # an error that must reach the caller, from any thread
    lock: threading.Lock = field(default_factory=threading.Lock)
    rate: RateLimiter = field(init=False)
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker(BREAKER_LIMIT))

    def __post_init__(self) -> None:
        self.report = SendReport(self.digest.id)
        self.rate = RateLimiter(self.config.smtp.rate_limit)

    def run(self, pending: list[Delivery]) -> SendReport:
        connections = max(1, min(self._parallelism(), len(pending)))
        shares = [pending[index::connections] for index in range(connections)]
        threads = [
            threading.Thread(target=self._work, args=(share,), daemon=True) for share in shares[1:]
        ]
        for thread in threads:
            thread.start()
        try:
            self._work(shares[0] if shares else [])
        finally:
            for thread in threads:  # the lock is released only once every thread has finished
                thread.join()
        if self.failure is not None:
            raise self.failure
        return self.report

    def stopped(self) -> bool:
        return self.stop.is_set() or self.halt.is_set()

    def _parallelism(self) -> int:
        """SMTP connections as configured; the file transport overlaps its disk waits on a few
        threads."""
        if self.config.digest.transport == "smtp":
            return self.config.smtp.connections
        return FILE_WRITERS

    def _work(self, share: list[Delivery]) -> None:
        try:
            with self.open_log() as log, self.open_transport() as transport:
                for delivery in share:
                    if self.stopped():
                        return
                    self._one(log, transport, delivery)
                    if self.breaker.open:
                        self._halt(self.breaker.reason())
        except MessageRejectedError as exc:
            self._halt(str(exc))
        # A wrong password, a full disk, or a bug: every thread stops, and the caller hears of it.
        except Exception as exc:  # noqa: BLE001 - passed on, not swallowed
            with self.lock:
                self.failure = self.failure or exc
            self._halt(str(exc))

    def _one(self, log: DeliveryLog, transport: Transport, delivery: Delivery) -> None:
        if not log.is_active(delivery.email_key):
            log.mark(delivery, DeliveryStatus.SKIPPED, None, count_run=True)
            self._count(DeliveryStatus.SKIPPED)
            return
        outcome = self._settle(delivery, self._deliver(transport, delivery))
        stored = {DEFERRED: delivery.status}.get(outcome.status, outcome.status)
        log.mark(delivery, stored, outcome.error, count_run=outcome.counts_as_run)
        self._count(outcome.status, delivery.address, outcome.error)
        if outcome.refused and outcome.error:
            with self.lock:
                self.report.refused.append((delivery.email_key, outcome.error))

    def _settle(self, delivery: Delivery, outcome: Outcome) -> Outcome:
        """Apply the limits that span runs: 4xx for too many runs, and the one retry of an
        unknown."""
        if outcome.status == DeliveryStatus.UNKNOWN and delivery.status == DeliveryStatus.UNKNOWN:
            return Outcome(
                DeliveryStatus.FAILED,
                f"no reply twice; not sent again to avoid copies: {outcome.error}",
            )
        out_of_runs = delivery.attempts + 1 >= GIVE_UP_AFTER_RUNS
        if outcome.status == DEFERRED and outcome.counts_as_run and out_of_runs:
            return Outcome(
                DeliveryStatus.FAILED, f"gave up after {GIVE_UP_AFTER_RUNS} runs: {outcome.error}"
            )
        return outcome

    def _deliver(self, transport: Transport, delivery: Delivery) -> Outcome:
        """Send with retries; an unknown outcome is never retried in the same run."""
        message = self.builder.build(delivery.address)
        envelope_sender = self.builder.envelope_sender(delivery.address)
        attempts = (
            1 if delivery.status == DeliveryStatus.UNKNOWN else self.config.smtp.max_attempts
        )
        last = Outcome(DEFERRED, "stopped before sending", counts_as_run=False)
        for attempt in range(attempts):
            if attempt and self._pause(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)]):
                break
            self.rate.wait()
            try:
                transport.send(envelope_sender, message)
            except PermanentDeliveryError as exc:
                self.breaker.answered()
                return Outcome(DeliveryStatus.FAILED, str(exc), refused=True)
            except OutcomeUnknownError as exc:
                self.breaker.failed(exc)
                return Outcome(DeliveryStatus.UNKNOWN, str(exc))
            except ConnectionProblemError as exc:
                self.breaker.failed(exc)
                last = Outcome(DEFERRED, str(exc), counts_as_run=False)
                continue
            except TransientDeliveryError as exc:
                self.breaker.answered()
                last = Outcome(DEFERRED, str(exc))
                continue
            self.breaker.answered()
            return Outcome(DeliveryStatus.SENT)
        return last

    def _pause(self, seconds: float) -> bool:
        """Wait before a retry; True if the send was stopped, or the server taken to be down,
        meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stopped() and not self.breaker.open and time.monotonic() < deadline:
            self.halt.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        return self.stopped() or self.breaker.open

    def _count(self, status: str, address: str = "", error: str | None = None) -> None:
        with self.lock:
            self.report.counts[status] += 1
            if error and status != DeliveryStatus.SENT:
                self.report.errors.append((address, error))
        self.on_result(status)

    def _halt(self, reason: str) -> None:
        with self.lock:
            self.report.stopped = self.report.stopped or reason
        self.halt.set()
