"""SMTP PIPELINING (RFC 2920): one message costs two round trips instead of four where the server
offers it, and every refusal still lands on the right message, against the real aiosmtpd server."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from feedkit.config import Config, load_config
from feedkit.errors import PermanentDeliveryError, TransientDeliveryError
from feedkit.mail.message import OutgoingMessage
from feedkit.mail.transports import SmtpTransport, open_transport
from feedkit.newsletter import campaigns
from tests.conftest import import_rows, write_site, yesterdays_review
from tests.smtp_server import Faults, SmtpServer

pytestmark = pytest.mark.usefixtures("feedkit_secret")
SENDER = "digest@reviews.example.org"


def site(root: Path, server: SmtpServer, smtp_extra: str = "") -> Config:
    settings = (
        f'[digest]\nfrom_address = "{SENDER}"\ntransport = "smtp"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n{smtp_extra}'
    )
    return load_config(write_site(root, {"a.md": yesterdays_review("Vertigo")}, settings))


class CountingSocket:
    """A real socket that counts the writes made to it: each write the client makes before it
    waits for a reply is one round trip."""

    def __init__(self, inner: socket.socket) -> None:
        self.inner = inner
        self.writes = 0

    def sendall(self, data: bytes) -> None:
        self.writes += 1
        self.inner.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def message(number: int) -> OutgoingMessage:
    address = f"reader{number}@example.org"
    data = f"Subject: {number}\r\nMessage-ID: <{number}@x>\r\n\r\n.leading dot\r\nBody\r\n"
    return OutgoingMessage(address, f"<{number}@x>", data.encode())


def writes_per_message(transport: SmtpTransport, count: int) -> list[int]:
    """Send `count` messages on one connection; the socket writes each one took."""
    transport.send(SENDER, message(0))  # opens the connection: EHLO is not a message's cost
    assert transport.connection is not None
    assert transport.connection.sock is not None
    counting = CountingSocket(transport.connection.sock)
    transport.connection.sock = counting  # type: ignore[assignment]
    counts = []
    for number in range(1, count + 1):
        before = counting.writes
        transport.send(SENDER, message(number))
        counts.append(counting.writes - before)
    return counts


def test_a_server_offering_pipelining_gets_each_message_in_two_round_trips(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """MAIL, RCPT and DATA go in one write and the message in a second; each arrives whole."""
    server = server_with()
    with SmtpTransport(site(tmp_path, server), None) as transport:
        assert writes_per_message(transport, 3) == [2, 2, 2]
    assert [item.recipients for item in server.handler.received] == [
        [f"reader{number}@example.org"] for number in range(4)
    ]
    assert [item.data for item in server.handler.received] == [
        message(number).data for number in range(4)
    ]
    assert {item.sender for item in server.handler.received} == {SENDER}


def test_a_server_without_pipelining_gets_one_command_at_a_time(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """Where PIPELINING is not offered, each of MAIL, RCPT, DATA and the message waits for its
    reply: four round trips (this also shows the count above measures what it says)."""
    server = server_with(pipelining=False)
    with SmtpTransport(site(tmp_path, server), None) as transport:
        assert writes_per_message(transport, 2) == [4, 4]
    assert len(server.handler.received) == 3


def test_pipelining_can_be_switched_off(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """`[smtp] pipelining = false` sends one command at a time even to a server that offers it."""
    server = server_with()
    config = site(tmp_path, server, "pipelining = false\n")
    with SmtpTransport(config, None) as transport:
        assert writes_per_message(transport, 2) == [4, 4]


def test_a_refused_recipient_in_a_pipelined_envelope_fails_only_that_message(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """A 550 to RCPT in a pipelined group is that recipient's permanent failure and a 451 a
    temporary one; the same connection then carries the next message."""
    faults = Faults(permanent={"reader1@example.org"}, temporary={"reader2@example.org": 1})
    server = server_with(faults)
    with SmtpTransport(site(tmp_path, server), None) as transport:
        transport.send(SENDER, message(0))
        with pytest.raises(PermanentDeliveryError, match=r"550 5\.1\.1"):
            transport.send(SENDER, message(1))
        with pytest.raises(TransientDeliveryError, match=r"451 4\.3\.0"):
            transport.send(SENDER, message(2))
        connection = transport.connection
        transport.send(SENDER, message(3))
        assert transport.connection is connection
    assert [item.recipients for item in server.handler.received] == [
        ["reader0@example.org"],
        ["reader3@example.org"],
    ]


def test_a_pipelined_send_delivers_once_to_every_subscriber_despite_refusals(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """A whole digest over two pipelining connections: one copy each, the refused one failed,
    the deferred one sent on retry."""
    faults = Faults(permanent={"reader03@example.org"}, temporary={"reader05@example.org": 1})
    server = server_with(faults)
    config = site(tmp_path, server, "connections = 2\n")
    addresses = [f"reader{number:02d}@example.org" for number in range(8)]
    import_rows(config, [[address] for address in addresses])
    reports = campaigns.send(config, lambda: open_transport(config))
    assert [report.summary() for report in reports] == [
        "digest 1: 7 sent, 1 failed, 0 deferred, 0 unknown, 0 skipped (unsubscribed)"
    ]
    copies = {key: len(items) for key, items in server.handler.by_recipient().items()}
    assert copies == {address: 1 for address in addresses if address != "reader03@example.org"}
