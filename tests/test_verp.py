"""The envelope sender names the delivery (VERP): each recipient's copy of a digest carries a
signed token for that digest and recipient, the same on every resend."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from feedkit.config import Config
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns
from feedkit.newsletter.messages import DigestMessages, recipient_reference
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from feedkit.tokens import Purpose, Tokens
from tests.smtp_server import SmtpServer
from tests.test_newsletter import SECRET, site_maker, smtp_config, subscribe

__all__ = ["site_maker"]  # a fixture, used by name

BOUNCES = '\nbounce_address = "bounces+{token}@reviews.example.org"\n'
VERP = re.compile(r"bounces\+([a-z0-9.]+)@reviews\.example\.org")


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


def verp_config(make: Callable[..., Config], server: SmtpServer) -> Config:
    return make(BOUNCES + smtp_config(server))


def test_each_copy_goes_out_with_a_token_for_its_digest_and_recipient(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """MAIL FROM is the bounce address with a token that reads back as this digest and this
    recipient; the From header stays the site's own."""
    config = verp_config(site_maker, server)
    addresses = subscribe(config, 3)
    campaigns.send(config, lambda: open_transport(config))
    tokens = Tokens(SECRET.encode())
    subjects = {}
    for item in server.handler.received:
        found = VERP.fullmatch(item.sender)
        assert found, item.sender
        subjects[item.recipients[0]] = tokens.read(Purpose.BOUNCE, found.group(1))
        assert item.message["From"] == "Test Reviews <digest@reviews.example.org>"
    assert subjects == {address: f"1.{recipient_reference(address)}" for address in addresses}


def test_a_resend_carries_the_same_envelope_sender(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """Building a recipient's copy again, as a resend does, gives the envelope sender that went
    out the first time."""
    config = verp_config(site_maker, server)
    subscribe(config, 2)
    campaigns.send(config, lambda: open_transport(config))
    sent = {item.recipients[0]: item.sender for item in server.handler.received}
    with Store(config.database_path) as store:
        digest = mailstate.load_digest(store, 1)
    messages = DigestMessages(config, digest, Tokens(SECRET.encode()))
    assert {address: messages.envelope_sender(address) for address in sent} == sent


def test_without_a_bounce_address_the_from_address_takes_the_bounces(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """With no bounce_address set, MAIL FROM is the From address, as before."""
    config = site_maker(smtp_config(server))
    subscribe(config, 1)
    campaigns.send(config, lambda: open_transport(config))
    assert [item.sender for item in server.handler.received] == ["digest@reviews.example.org"]


def test_a_test_send_bounces_to_the_from_address(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """A test belongs to no digest: its bounce goes to the editor at the From address."""
    config = verp_config(site_maker, server)
    campaigns.send_test(config, "editor@example.org", open_transport(config))
    assert [item.sender for item in server.handler.received] == ["digest@reviews.example.org"]
