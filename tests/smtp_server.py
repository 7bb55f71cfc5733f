"""A real SMTP server for tests: aiosmtpd in a thread, with optional TLS, AUTH and scripted
faults."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "editor", "correct horse battery staple"


@dataclass
class Received:
    """One accepted message."""

    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Faults:
    """Scripted misbehaviour: temporary refusals, permanent ones, a dropped connection,
    slowness."""

    temporary: dict[str, int] = field(
        default_factory=dict
    )  # address -> how many 451s before accepting
    permanent: set[str] = field(default_factory=set)  # addresses answered 550 5.1.1
    refusals: dict[str, str] = field(default_factory=dict)  # address -> its own 5xx reply to RCPT
    drop_after: int | None = (
        None  # close the connection abruptly once this many messages were accepted
    )
    drop_at_rcpt_after: int | None = None  # likewise, but at RCPT: before the message is sent
    delay: float = 0.0  # seconds to wait before accepting each message (the server is blocked)
    reply_delay: float = 0.0  # seconds to wait, after storing a message, before answering 250
    hang_after_data: bool = False  # never answer the end of DATA, and store nothing
    sender_reply: str = ""  # a reply to MAIL FROM instead of 250, e.g. "550 5.7.1 Sender refused"
    data_reply: str = ""  # a reply to the end of DATA instead of 250, storing nothing


class Handler:
    """Records what arrives and applies the scripted faults."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.pipelining = True  # set False before start() for a server that does not offer it
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.dropped = False

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's name for the hook
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """Offer PIPELINING (RFC 2920) as real servers do: aiosmtpd reads pipelined commands
        in order but does not say so itself."""
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.faults.sender_reply:
            return self.faults.sender_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's name for the hook
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        drop_after = self.faults.drop_at_rcpt_after
        if drop_after is not None and len(self.received) >= drop_after and not self.dropped:
            self.dropped = True
            server.transport.abort()
            return "421 closing"
        lowered = address.lower()
        if lowered in self.faults.permanent:
            return "550 5.1.1 No such mailbox here"
        if lowered in self.faults.refusals:
            return self.faults.refusals[lowered]
        with self.lock:
            left = self.faults.temporary.get(lowered, 0)
            if left:
                self.faults.temporary[lowered] = left - 1
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.faults.delay:
            time.sleep(self.faults.delay)  # blocks the server loop: a slow server, on purpose
        if self.faults.hang_after_data:
            await asyncio.sleep(3600)
        if self.faults.data_reply:
            return self.faults.data_reply
        with self.lock:
            if (
                self.faults.drop_after is not None
                and len(self.received) >= self.faults.drop_after
                and not self.dropped
            ):
                self.dropped = True
                server.transport.abort()
                return "421 closing"
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        if self.faults.reply_delay:
            await asyncio.sleep(self.faults.reply_delay)  # stored, but the answer comes late
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = {}
        for item in self.received:
            for recipient in item.recipients:
                found.setdefault(recipient.lower(), []).append(item)
        return found


def authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == USER.encode()
        and data.password == PASSWORD.encode()
    )
    return AuthResult(
        success=ok, handled=False
    )  # handled=False: aiosmtpd sends the 535 reply itself


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """Start with `start()`, stop with `stop()`; `handler.received` holds what arrived."""

    def __init__(self, faults: Faults | None = None, **kwargs: Any) -> None:
        self.handler = Handler(faults or Faults())
        # port=N: a server that comes back where one went down
        self.port = int(kwargs.pop("port", 0)) or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
