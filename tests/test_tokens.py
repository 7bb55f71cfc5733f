"""Signed tokens: each made for one purpose, refused for any other, altered or foreign; some
expire;
unsubscribe links from feedkit 0.1's mail still work."""

from __future__ import annotations

import string
import time
from datetime import timedelta

import pytest

from feedkit.tokens import Purpose, Tokens, read_legacy_unsubscribe

SECRET = b"0123456789abcdef0123456789abcdef"
TOKENS = Tokens(SECRET)
# An unsubscribe token as feedkit 0.1 wrote it for ann@example.org, with the secret above.
LEGACY = "YW5uQGV4YW1wbGUub3Jn.DEzSthNu7bwKbralaaTSpQ"


def test_a_token_reads_back_for_its_purpose_only() -> None:
    """A confirmation token confirms; as an unsubscribe, preferences or session token it is
    nothing."""
    token = TOKENS.make(Purpose.CONFIRM, "ann@example.org")
    assert TOKENS.read(Purpose.CONFIRM, token) == "ann@example.org"
    for other in Purpose:
        if other is not Purpose.CONFIRM:
            assert TOKENS.read(other, token) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.replace(token.split(".")[0], "Ym9iQGV4YW1wbGUub3Jn", 1),
        lambda _token: "",
        lambda _token: "not-a-token",
        lambda _token: "é.é.é",
        lambda token: token + "." + token,
        lambda token: token + "é",
        lambda token: token[:5] + "~" + token[5:],
        lambda token: token + "A" * 2000,
    ],
    ids=[
        "signature",
        "payload",
        "empty",
        "garbage",
        "non-ascii",
        "doubled",
        "non-ascii-appended",
        "stray-character",
        "huge",
    ],
)
def test_altered_or_garbage_tokens_are_refused(mangle: object) -> None:
    """Any change to a token, or a string that is not one, reads as nothing."""
    assert callable(mangle)
    token = TOKENS.make(Purpose.UNSUBSCRIBE, "ann@example.org")
    assert TOKENS.read(Purpose.UNSUBSCRIBE, mangle(token)) is None


def test_a_token_from_another_secret_is_refused() -> None:
    """Another site's token does not verify here."""
    foreign = Tokens(b"another-secret-of-enough-length").make(
        Purpose.UNSUBSCRIBE, "ann@example.org"
    )
    assert TOKENS.read(Purpose.UNSUBSCRIBE, foreign) is None


def test_an_expired_token_says_so_and_names_its_subject() -> None:
    """Past its age a token is refused, but the page can still tell whose it was (to offer a new
    one)."""
    token = TOKENS.make(Purpose.CONFIRM, "ann@example.org")
    time.sleep(1.1)  # itsdangerous counts whole seconds
    checked = TOKENS.check(Purpose.CONFIRM, token, max_age=timedelta(seconds=0))
    assert (checked.subject, checked.expired, checked.expired_subject) == (
        None,
        True,
        "ann@example.org",
    )
    assert TOKENS.read(Purpose.CONFIRM, token, max_age=timedelta(hours=48)) == "ann@example.org"


def test_feedkit_0_1_unsubscribe_links_still_work() -> None:
    """A link in mail sent before tokens carried a purpose still unsubscribes, and only
    unsubscribes."""
    assert read_legacy_unsubscribe(LEGACY, SECRET) == "ann@example.org"
    assert TOKENS.read(Purpose.UNSUBSCRIBE, LEGACY) == "ann@example.org"
    assert TOKENS.read(Purpose.CONFIRM, LEGACY) is None
    assert TOKENS.read(Purpose.UNSUBSCRIBE, LEGACY[:-2] + "AA") is None


def test_a_bounce_token_is_the_same_every_time_and_reads_in_any_case() -> None:
    """A bounce token never changes for its subject, and reads back whatever its letter case."""
    token = TOKENS.make(Purpose.BOUNCE, "12.0a1b2c3d4e5f6071")
    assert token == TOKENS.make(Purpose.BOUNCE, "12.0a1b2c3d4e5f6071")
    assert TOKENS.read(Purpose.BOUNCE, token.upper()) == "12.0a1b2c3d4e5f6071"
    assert TOKENS.read(Purpose.UNSUBSCRIBE, token) is None


def test_a_bounce_token_fits_a_local_part_beside_a_prefix() -> None:
    """A bounce token for a six-digit digest leaves room for 'bounces+' in a 64-character local
    part, and holds only characters an address's local part takes unquoted."""
    token = TOKENS.make(Purpose.BOUNCE, "123456.0a1b2c3d4e5f6071")
    assert len("bounces+" + token) <= 64
    assert set(token) <= set(string.ascii_lowercase + string.digits + ".")


@pytest.mark.parametrize(
    "token",
    ["", ".", "12.0a1b", "12.0a1b.aaaaaaaaaaaaaaaa", "12..x.y", "é.é", "12.0a1b.é"],
)
def test_altered_or_garbage_bounce_tokens_are_refused(token: str) -> None:
    """A bounce token that is not one this secret made reads as nothing, and never raises."""
    assert TOKENS.read(Purpose.BOUNCE, token) is None


def test_a_bounce_token_from_another_secret_is_refused() -> None:
    """Another site's bounce token does not verify here."""
    foreign = Tokens(b"another-secret-of-enough-length").make(Purpose.BOUNCE, "12.ab")
    assert TOKENS.read(Purpose.BOUNCE, foreign) is None
