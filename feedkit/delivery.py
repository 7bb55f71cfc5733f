"""Sending a frozen digest to its pending recipients: connections, rate, retries, state per message.

A recipient is marked sent right after the server accepts the message, in its own transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from feedkit import mailstate
from feedkit.config import Config
from feedkit.mail import (
    MessageBuilder,
    PermanentDeliveryError,
    ServerUnreachableError,
    TransientDeliveryError,
    Transport,
)
from feedkit.mailstate import FAILED, PENDING, SENT, SKIPPED, Delivery, FrozenDigest
from feedkit.state import Store

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds before each retry of one message
GIVE_UP_AFTER_RUNS = 3  # a recipient still refused with 4xx after this many runs is marked failed
FILE_WRITERS = 4  # threads writing .eml files: creating and fsyncing files waits on the disk, not the CPU
DEFERRED = "deferred"  # still pending after this run's attempts: the next run tries again


@dataclass(slots=True)
class SendReport:
    """What one run did with one digest."""

    digest_id: int
    counts: dict[str, int] = field(default_factory=lambda: {SENT: 0, FAILED: 0, DEFERRED: 0, SKIPPED: 0})
    errors: list[tuple[str, str]] = field(default_factory=list)
    stopped: str | None = None  # why the run ended early, if it did

    def summary(self) -> str:
        counts = self.counts
        line = (
            f"digest {self.digest_id}: {counts[SENT]} sent, {counts[FAILED]} failed, "
            f"{counts[DEFERRED]} deferred, {counts[SKIPPED]} skipped (unsubscribed)"
        )
        return f"{line}; stopped early: {self.stopped}" if self.stopped else line


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


@dataclass(slots=True)
class Sender:
    """Sends one digest over `connections` transports at once, recording each outcome as it happens.

    `stop` is the caller's (SIGTERM, say): it is only read. A failure inside the send sets `halt`,
    which stops every thread of this send and nothing else.
    """

    config: Config
    digest: FrozenDigest
    builder: MessageBuilder
    open_transport: Callable[[], Transport]
    on_result: Callable[[str], None] = lambda _status: None
    stop: threading.Event = field(default_factory=threading.Event)
    halt: threading.Event = field(default_factory=threading.Event)
    report: SendReport = field(init=False)
    failure: BaseException | None = None  # an error that must reach the caller, from any thread
    lock: threading.Lock = field(default_factory=threading.Lock)
    rate: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.report = SendReport(self.digest.id)
        self.rate = RateLimiter(self.config.smtp.rate_limit)

    def run(self, pending: list[Delivery]) -> SendReport:
        connections = max(1, min(self._parallelism(), len(pending)))
        shares = [pending[index::connections] for index in range(connections)]
        threads = [threading.Thread(target=self._work, args=(share,), daemon=True) for share in shares[1:]]
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
        """SMTP connections as configured; the file transport overlaps its disk waits on a few threads."""
        return self.config.smtp.connections if self.config.digest.transport == "smtp" else FILE_WRITERS

    def _work(self, share: list[Delivery]) -> None:
        try:
            with Store(self.config.database_path) as store, self.open_transport() as transport:
                for delivery in share:
                    if self.stopped():
                        return
                    self._one(store, transport, delivery)
        except ServerUnreachableError as exc:
            self._halt(str(exc))
        except Exception as exc:  # a wrong password, a full disk, or a bug: every thread stops, the caller hears
            with self.lock:
                self.failure = self.failure or exc
            self._halt(str(exc))

    def _one(self, store: Store, transport: Transport, delivery: Delivery) -> None:
        if not mailstate.is_subscribed(store, delivery.email_key):
            mailstate.mark_delivery(store, self.digest.id, delivery.email_key, SKIPPED)
            self._count(SKIPPED)
            return
        status, error = self._deliver(transport, delivery)
        if status == DEFERRED and delivery.attempts + 1 >= GIVE_UP_AFTER_RUNS:
            status, error = FAILED, f"gave up after {GIVE_UP_AFTER_RUNS} runs: {error}"
        stored = PENDING if status == DEFERRED else status
        mailstate.mark_delivery(store, self.digest.id, delivery.email_key, stored, error)
        self._count(status, delivery.address, error)

    def _deliver(self, transport: Transport, delivery: Delivery) -> tuple[str, str | None]:
        """Send with retries; a server that stays unreachable stops the whole run."""
        message = self.builder.build(delivery.address)
        last: TransientDeliveryError | None = None
        for attempt in range(self.config.smtp.max_attempts):
            if attempt and self._pause(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)]):
                break
            self.rate.wait()
            try:
                transport.send(self.builder.sender, message)
            except PermanentDeliveryError as exc:
                return FAILED, str(exc)
            except TransientDeliveryError as exc:
                last = exc
                continue
            return SENT, None
        if isinstance(last, ServerUnreachableError):
            raise last
        return DEFERRED, str(last) if last else "stopped before sending"

    def _pause(self, seconds: float) -> bool:
        """Wait before a retry; True if the send was stopped meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stopped() and time.monotonic() < deadline:
            self.halt.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        return self.stopped()

    def _count(self, status: str, address: str = "", error: str | None = None) -> None:
        with self.lock:
            self.report.counts[status] += 1
            if error and status != SENT:
                self.report.errors.append((address, error))
        self.on_result(status)

    def _halt(self, reason: str) -> None:
        with self.lock:
            self.report.stopped = self.report.stopped or reason
        self.halt.set()
