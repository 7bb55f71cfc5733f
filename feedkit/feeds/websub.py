"""Telling WebSub hubs that feeds changed: one `hub.mode=publish` POST per changed feed per hub.

A hub that fails is asked again after a pause that doubles each time; what still fails is
logged and said in a note, and never fails the build: readers then see the change at their next
poll, as they would without a hub. A hub that cannot be reached at all is not asked about the
remaining feeds of that build, so a dead hub costs one feed's retries, not every feed's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from feedkit import httpclient
from feedkit.words import plural

log = logging.getLogger("feedkit.websub")

ATTEMPTS = 3
FIRST_PAUSE_SECONDS = 1.0  # then 2 s: a hub restarting or shedding load gets a moment
TIMEOUT_SECONDS = 10


class PingError(Exception):
    """One publish ping that did not go through; `permanent` when asking again cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class HubReport:
    """What one hub was told in one build."""

    hub: str
    announced: int
    missed: int
    reason: str = ""  # why the last missed feed was missed

    def note(self) -> str:
        if not self.missed:
            return f"WebSub: told {self.hub} of {plural(self.announced, 'changed feed')}"
        total = self.announced + self.missed
        return (
            f"WebSub: {self.hub} was not told of {self.missed} of {plural(total, 'changed feed')}"
            f" ({self.reason}); their readers will see the change at their next poll"
        )


def pause(seconds: float) -> None:
    """The wait between two attempts."""
    time.sleep(seconds)


def announce(hubs: Sequence[str], feed_urls: Sequence[str]) -> list[str]:
    """Ping every hub about every changed feed; one note per hub."""
    return [announce_to(hub, feed_urls).note() for hub in hubs]


def announce_to(hub: str, feed_urls: Sequence[str]) -> HubReport:
    announced, reason = 0, ""
    for index, feed_url in enumerate(feed_urls):
        try:
            publish_with_retries(hub, feed_url)
        except PingError as error:
            reason = str(error)
            if not error.permanent:  # unreachable or failing: do not ask about the rest
                return HubReport(hub, announced, len(feed_urls) - index, reason)
            continue
        announced += 1
    return HubReport(hub, announced, len(feed_urls) - announced, reason)


def publish_with_retries(hub: str, feed_url: str) -> None:
    wait = FIRST_PAUSE_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        try:
            publish(hub, feed_url)
            return
        except PingError as error:
            if error.permanent or attempt == ATTEMPTS:
                log.warning("WebSub: %s was not told of %s: %s", hub, feed_url, error)
                raise
            log.info(
                "WebSub: %s: attempt %d of %d for %s failed (%s); again in %g s",
                hub,
                attempt,
                ATTEMPTS,
                feed_url,
                error,
                wait,
            )
        pause(wait)
        wait *= 2


def publish(hub: str, feed_url: str) -> None:
    """One ping; a 2xx answer is success. Hub URLs are http(s) only (config checks them)."""
    body = urlencode({"hub.mode": "publish", "hub.url": feed_url}).encode("ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        httpclient.send(hub, body, headers, timeout=TIMEOUT_SECONDS)
    except httpclient.HttpFailure as failure:
        # 429 and 5xx may pass; any other 4xx is the hub saying no to this request as it is.
        raise PingError(str(failure), permanent=failure.refused) from None
