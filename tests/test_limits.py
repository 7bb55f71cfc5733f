"""The web side's in-memory limits: a form token is taken once, and however many come, the
memory of them stays bounded."""

from __future__ import annotations

import time

import pytest

from feedkit.web import limits
from feedkit.web.limits import OnceOnly


def test_a_token_is_taken_once() -> None:
    """The first use of a token counts; the second is refused; another token is its own."""
    once = OnceOnly(window=3600)
    assert once.first_use("a")
    assert not once.first_use("a")
    assert once.first_use("b")


def test_a_flood_of_tokens_keeps_the_memory_bounded_and_the_newest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the cap the oldest half is forgotten; the newest are still refused a second time."""
    monkeypatch.setattr(limits, "MAX_TRACKED_TOKENS", 100)
    once = OnceOnly(window=3600)
    for number in range(1000):
        assert once.first_use(f"token-{number}")
    assert len(once.seen) <= 100
    assert not once.first_use("token-999")


def test_expired_tokens_are_forgotten_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the cap, the tokens older than the window go, and no live one does."""
    monkeypatch.setattr(limits, "MAX_TRACKED_TOKENS", 10)
    clock = iter(range(0, 10_000, 10))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    once = OnceOnly(window=25)  # a token lives for two or three of the ticks above
    for number in range(12):
        assert once.first_use(f"token-{number}")
    assert list(once.seen) == ["token-8", "token-9", "token-10", "token-11"]
    assert not once.first_use("token-11")
