"""Digest messages: each recipient's signed link, no header injection, well-formed MIME."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.errors import MailConfigError
from feedkit.mail.message import LINK_PLACEHOLDER
from feedkit.newsletter.messages import DigestMessages
from feedkit.newsletter.model import DigestContent, FrozenDigest
from feedkit.tokens import Purpose, Tokens, secret_from_environment
from tests.conftest import write_site

SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(
        write_site(tmp_path, {}, '[digest]\nfrom_address = "news@reviews.example.org"\n')
    )


def digest(subject: str = "Two new reviews") -> FrozenDigest:
    content = DigestContent(
        subject=subject,
        html=f'<p>Café ★ <a href="{LINK_PLACEHOLDER}">Unsubscribe</a></p>',
        text=f"Café ★\nUnsubscribe: {LINK_PLACEHOLDER}\n",
        sources=("a.md",),
        since=datetime(2026, 11, 1, tzinfo=UTC),
        archive_url="https://reviews.example.org/digests/2026-11-24.html",
    )
    return FrozenDigest(7, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), content)


def test_secret_must_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FEEDKIT_SECRET: a clear error saying how to make one."""
    monkeypatch.delenv("FEEDKIT_SECRET", raising=False)
    with pytest.raises(MailConfigError) as caught:
        secret_from_environment()
    assert str(caught.value).startswith("FEEDKIT_SECRET is not set;")


def parse(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_message_is_well_formed_multipart(config: Config) -> None:
    """Both parts decode to the rendered text with the recipient's own link; lines end in CRLF."""
    built = DigestMessages(config, digest(), Tokens(SECRET)).build("ann@example.org")
    assert b"\n" not in built.data.replace(b"\r\n", b"")
    body = built.data.split(b"\r\n\r\n", 1)[1]
    assert (
        max(len(line) for line in body.split(b"\r\n")) <= 76
    )  # RFC 2045's limit for quoted-printable
    message = parse(built.data)
    assert message.get_content_type() == "multipart/alternative"
    token = Tokens(SECRET).make(Purpose.UNSUBSCRIBE, "ann@example.org")
    link = f"https://reviews.example.org/unsubscribe?t={token}"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content() == f"Café ★\r\nUnsubscribe: {link}\r\n"
    assert html.get_content() == f'<p>Café ★ <a href="{link}">Unsubscribe</a></p>'
    assert (
        message["List-Unsubscribe"]
        == f"<{link}>, <mailto:news@reviews.example.org?subject=unsubscribe>"
    )
    assert message["Date"] == "Tue, 24 Nov 2026 08:00:00 +0000"


def test_subject_with_line_breaks_cannot_add_headers(config: Config) -> None:
    """A subject carrying CR/LF and a header of its own stays one Subject header."""
    built = DigestMessages(
        config, digest("Hello\r\nBcc: victim@example.org\nX-Evil: 1"), Tokens(SECRET)
    ).build("a@example.org")
    message = parse(built.data)
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert message["Subject"] == "Hello Bcc: victim@example.org X-Evil: 1"


def test_non_ascii_subject_is_encoded(config: Config) -> None:
    """A subject with accents and stars is an RFC 2047 encoded word that decodes back exactly."""
    built = DigestMessages(config, digest("Amélie ★★★★★ — new"), Tokens(SECRET)).build(
        "a@example.org"
    )
    assert b"=?utf-8?" in built.data
    assert parse(built.data)["Subject"] == "Amélie ★★★★★ — new"


def test_message_id_is_deterministic_and_test_sends_differ(config: Config) -> None:
    """The same digest to the same address has the same Message-ID, a test send another."""
    builder = DigestMessages(config, digest(), Tokens(SECRET))
    first = builder.build("Ann@example.org").message_id
    assert builder.build("ann@example.org").message_id == first
    assert builder.build("bob@example.org").message_id != first
    assert builder.build("ann@example.org", test=True).message_id != first
    assert first.endswith("@reviews.example.org>")
