"""How often one client, and everyone together, may ask for something: a sliding window each;
and which one-time form tokens have been used.

Kept in memory, per `feedkit serve` process: the limits hold off a flood, and a restart that
forgets them lets a flood through for one window at most.
"""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_TRACKED_CLIENTS = 10_000
MAX_TRACKED_TOKENS = 50_000  # about 10 MB of form tokens at the most


class RateLimit:
    """At most `per_client` requests from one client and `total` from all in `window` seconds."""

    def __init__(self, per_client: int, total: int, window: float = 3600) -> None:
        self.per_client = per_client
        self.total = total
        self.window = window
        self.clients: dict[str, deque[float]] = {}
        self.everyone: deque[float] = deque()
        self.lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count a request now and say whether it is within both limits (one refused counts
        against neither)."""
        with self.lock:
            now = time.monotonic()
            self._forget_idle_clients(now)
            recent = self._recent(self.clients.setdefault(client, deque()), now)
            everyone = self._recent(self.everyone, now)
            if len(recent) >= self.per_client or len(everyone) >= self.total:
                return False
            recent.append(now)
            everyone.append(now)
            return True

    def _recent(self, marks: deque[float], now: float) -> deque[float]:
        while marks and marks[0] <= now - self.window:
            marks.popleft()
        return marks

    def _forget_idle_clients(self, now: float) -> None:
        if len(self.clients) <= MAX_TRACKED_CLIENTS:
            return
        cutoff = now - self.window
        idle = [key for key, marks in self.clients.items() if not marks or marks[-1] <= cutoff]
        for key in idle:
            del self.clients[key]


class OnceOnly:
    """Tokens seen within `window` seconds: a signed form posted twice is a replay, not a
    person. Each is forgotten once it could no longer be accepted anyway."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def first_use(self, token: str) -> bool:
        """Record the token now; False if it was used before."""
        with self.lock:
            now = time.monotonic()
            if len(self.seen) >= MAX_TRACKED_TOKENS:
                self._forget_oldest(now)
            if token in self.seen:
                return False
            self.seen[token] = now
            return True

    def _forget_oldest(self, now: float) -> None:
        """Those that expired, and under a flood the older half too: memory stays bounded, and a
        replay of a forgotten one still meets the rate limits."""
        cutoff = now - self.window
        kept = [(token, at) for token, at in self.seen.items() if at > cutoff]
        if len(kept) >= MAX_TRACKED_TOKENS:
            kept = kept[len(kept) // 2 :]  # the dict keeps the order they came in
        self.seen = dict(kept)
