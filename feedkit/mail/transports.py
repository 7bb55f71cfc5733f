"""Where messages go: files in an outbox, or an SMTP server over one reused connection each.

smtplib, ssl and socket errors are translated here, once, into the DeliveryError that says what
the sender should do next (see the tree in feedkit.errors); nothing else sees them.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol

from feedkit.config import Config
from feedkit.errors import (
    ConnectionProblemError,
    DeliveryError,
    FeedkitError,
    MailConfigError,
    MessageRejectedError,
    OutcomeUnknownError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from feedkit.mail.message import OutgoingMessage, one_line
from feedkit.output import write_atomic

if TYPE_CHECKING:
    from typing_extensions import Buffer


class Transport(Protocol):
    """Where messages go. A context manager: it owns its connection (or folder) for a batch."""

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, sender: str, message: OutgoingMessage) -> None: ...


class FileTransport:
    """Writes each message to the outbox as an .eml file, one per digest and recipient."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, sender: str, message: OutgoingMessage) -> None:  # noqa: ARG002 - the interface
        write_atomic(self.path_for(message), message.data)

    def path_for(self, message: OutgoingMessage) -> Path:
        """The .eml file a message goes to, named by its Message-ID."""
        return self.outbox / (message.message_id.strip("<>").split("@")[0] + ".eml")


class _TrackedSMTP(smtplib.SMTP):
    """An SMTP connection that knows whether the whole message went out.

    smtplib sends the message body in one call ending in CRLF.CRLF, and commands as text; once
    that call returns, a lost connection or a missing reply leaves the outcome unknown.
    """

    message_sent = False

    def send(self, s: Buffer | str) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.message_sent = True

    def send_one(self, sender: str, recipient: str, data: bytes, *, pipelining: bool) -> None:
        """Send one message to one recipient, pipelined where the server offers it.

        Raises what `sendmail` raises, so one translation serves both ways.
        """
        self.ehlo_or_helo_if_needed()
        if not (pipelining and self.has_extn("pipelining")):
            refused = self.sendmail(sender, [recipient], data)
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
            return
        self._send_pipelined(sender, recipient, data)

    def _send_pipelined(self, sender: str, recipient: str, data: bytes) -> None:
        """RFC 2920: MAIL, RCPT and DATA in one write, then the message once DATA says 354.

        Every reply of the group is read before anything else is sent, so a refusal is known
        before the message leaves; as without pipelining, only the last reply, after the whole
        message went out, can be lost with the outcome unknown.
        """
        size = f" SIZE={len(data)}" if self.has_extn("size") else ""
        self.send(f"MAIL FROM:<{sender}>{size}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
        mail, rcpt, start = self.getreply(), self.getreply(), self.getreply()
        refused = mail[0] != 250 or rcpt[0] not in (250, 251)
        if refused and start[0] == 354:  # a server that takes DATA even so: end it empty
            self.send(b".\r\n")
            self.getreply()
        if mail[0] != 250:
            self._reset_after(smtplib.SMTPSenderRefused(mail[0], mail[1], sender))
        if rcpt[0] not in (250, 251):
            self._reset_after(smtplib.SMTPRecipientsRefused({recipient: rcpt}))
        if start[0] != 354:
            self._reset_after(smtplib.SMTPDataError(*start))
        self.send(_dot_stuffed(data))
        code, reply = self.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def _reset_after(self, error: smtplib.SMTPException) -> NoReturn:
        """Leave the connection ready for the next message, as `sendmail` does, then raise."""
        # The refusal is what the caller must hear; a dropped connection reconnects on next use.
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            self.rset()
        raise error


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: each leading dot doubled, ending in CRLF.CRLF."""
    body = _LEADING_DOT.sub(b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


_LEADING_DOT = re.compile(rb"(?m)^\.")


class _TrackedSMTPSSL(_TrackedSMTP, smtplib.SMTP_SSL):
    """The same, over implicit TLS."""


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message; reopened if it
    drops."""

    def __init__(
        self, config: Config, password: str | None, context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = config.smtp
        self.password = password
        self.context = context or _tls_context()
        self.connection: _TrackedSMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, sender: str, message: OutgoingMessage) -> None:
        connection = self.connection or self._connect()
        connection.message_sent = False
        try:
            connection.send_one(
                sender, message.recipient, message.data, pipelining=self.settings.pipelining
            )
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _reply_error(code, reply) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._drop_if_closed(exc.smtp_code)
            raise self._message_error(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop_if_closed(exc.smtp_code)
            raise _reply_error(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise self._lost(exc, sent=connection.message_sent) from exc

    def probe(self) -> ServerOffer:
        try:
            with self._open() as connection:
                connection.ehlo()
                tls = "implicit" if self.settings.security == "tls" else "none"
                if connection.has_extn("starttls"):
                    tls = "offered"
                    if self.settings.security == "starttls":
                        connection.starttls(context=self.context)
                        connection.ehlo()
                        tls = "starttls"
                auth = tuple(connection.esmtp_features.get("auth", "").upper().split())
                return ServerOffer(tls, auth, connection.has_extn("pipelining"))
        except (OSError, smtplib.SMTPException) as exc:
            raise self._translate(exc) from exc

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None

    def _message_error(self, code: int, reply: bytes | str) -> DeliveryError:
        """A 5xx to MAIL FROM or DATA condemns the message, not one recipient."""
        if not 500 <= code < 600:
            return _reply_error(code, reply)
        return MessageRejectedError(
            f"the mail server at {self._where()} refused the message itself ({code} "
            f"{_reply_text(reply)})",
            "nobody can receive it as it is; fix the cause, then run 'feedkit digest resume'",
        )

    def _lost(self, exc: Exception, *, sent: bool) -> DeliveryError:
        if sent:
            return OutcomeUnknownError(
                f"no reply from {self._where()} after the whole message was sent ({exc})"
            )
        return ConnectionProblemError(f"connection to {self._where()} lost ({exc})")

    def _connect(self) -> _TrackedSMTP:
        settings = self.settings
        try:
            connection = self._open()
        except (OSError, smtplib.SMTPException) as exc:
            raise self._translate(exc) from exc
        try:
            if settings.security == "starttls":
                connection.starttls(context=self.context)
            if settings.username:
                connection.login(settings.username, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            connection.close()
            raise self._translate(exc) from exc
        self.connection = connection
        return connection

    def _open(self) -> _TrackedSMTP:
        settings = self.settings
        if settings.security == "tls":
            return _TrackedSMTPSSL(
                settings.host, settings.port, timeout=settings.timeout, context=self.context
            )
        return _TrackedSMTP(settings.host, settings.port, timeout=settings.timeout)

    def _translate(self, exc: Exception) -> FeedkitError:
        """A failed connection as the one error a user can act on."""
        settings = self.settings
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return MailConfigError(
                f"{self._where()}: the server refused the login for {settings.username!r} "
                f"({exc.smtp_code})",
                f"check [smtp] username and the password in ${settings.password_env}",
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return MailConfigError(
                f"{self._where()}: {exc}", "set [smtp] security to match the server"
            )
        if isinstance(exc, ssl.SSLError):
            return MailConfigError(
                f"{self._where()}: TLS failed ({exc.reason})",
                "check [smtp] security, port and the certificate",
            )
        return ConnectionProblemError(f"cannot reach the mail server at {self._where()} ({exc})")

    def _drop_if_closed(self, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self.close()

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"


def _reply_error(code: int, reply: bytes | str) -> DeliveryError:
    message = f"{code} {_reply_text(reply)}"
    if 500 <= code < 600:
        return PermanentDeliveryError(message)
    return TransientDeliveryError(message)


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return one_line(text)


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def open_transport(
    config: Config, context: ssl.SSLContext | None = None
) -> FileTransport | SmtpTransport:
    """The transport config.toml asks for; the SMTP password is read from the environment here."""
    if config.digest.transport == "file":
        return FileTransport(config.outbox_dir)
    password = os.environ.get(config.smtp.password_env) if config.smtp.username else None
    if config.smtp.username and not password:
        raise MailConfigError(
            f"[smtp] username is set but ${config.smtp.password_env} is empty",
            f"export {config.smtp.password_env}=... before sending",
        )
    return SmtpTransport(config, password, context)


@dataclass(frozen=True, slots=True)
class ServerOffer:
    """What an SMTP server offers, as `feedkit doctor` reports it."""

    tls: str  # "implicit", "starttls" (offered and used), "offered" (not used), or "none"
    auth: tuple[str, ...]  # mechanisms offered once TLS is up
    pipelining: bool


def probe_server(config: Config, context: ssl.SSLContext | None = None) -> ServerOffer:
    """What the configured server offers, learnt as a send would connect (TLS and its
    certificate check included), without sending or logging in."""
    return SmtpTransport(config, None, context).probe()
