"""E-mail for the digest: unsubscribe tokens, messages built once per digest, and transports.

smtplib, ssl and socket errors are translated here, once, into TransientDeliveryError (try again)
or PermanentDeliveryError (this recipient will never take it); nothing else sees them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.mailstate import FrozenDigest
from feedkit.output import write_atomic

SECRET_ENV = "FEEDKIT_SECRET"  # noqa: S105 - the name of a variable, not a secret
UNSUBSCRIBE_PLACEHOLDER = "FEEDKIT-UNSUBSCRIBE-URL-0f3c"  # swapped for each recipient's own link
_CRLF = b"\r\n"


class DeliveryError(FeedkitError):
    """A message was not delivered."""


class TransientDeliveryError(DeliveryError):
    """Worth another try later: a 4xx reply, a dropped connection, a timeout."""


class ServerUnreachableError(TransientDeliveryError):
    """No connection to the mail server at all: stop this run, leave the rest pending."""


class PermanentDeliveryError(DeliveryError):
    """The server refused this recipient for good (a 5xx reply)."""


class MailConfigError(FeedkitError):
    """The mail set-up cannot work as configured: no secret, a wrong password, an unreachable server."""

    exit_code = 2


# -- unsubscribe tokens --------------------------------------------------------------------------


def secret_from_environment() -> bytes:
    secret = os.environ.get(SECRET_ENV, "")
    if len(secret) < 16:
        raise MailConfigError(
            f"{SECRET_ENV} is not set (or shorter than 16 characters); unsubscribe links are signed with it",
            f"export {SECRET_ENV}=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\"",
        )
    return secret.encode()


def make_token(address: str, secret: bytes) -> str:
    """An unsubscribe token: the address and its HMAC, checkable without any lookup table."""
    key = address.lower().encode()
    signature = hmac.new(secret, b"unsubscribe\0" + key, hashlib.sha256).digest()[:16]
    return _b64(key) + "." + _b64(signature)


def verify_token(token: str, secret: bytes) -> str | None:
    """The lower-cased address a genuine token was made for, or None for a bad, altered or foreign one."""
    encoded_address, _, encoded_signature = token.partition(".")
    try:
        key = base64.urlsafe_b64decode(encoded_address + "=" * (-len(encoded_address) % 4))
        signature = base64.urlsafe_b64decode(encoded_signature + "=" * (-len(encoded_signature) % 4))
    except (binascii.Error, ValueError):
        return None
    expected = hmac.new(secret, b"unsubscribe\0" + key, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        return key.decode()
    except UnicodeDecodeError:
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsubscribe_link(config: Config, address: str, secret: bytes) -> str:
    return f"{config.unsubscribe_url}?t={make_token(address, secret)}"


# -- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One recipient's message, ready for the wire."""

    recipient: str
    message_id: str
    data: bytes


class MessageBuilder:
    """Builds every recipient's message from one digest, rendering nothing twice.

    The headers and both bodies are prepared once; per recipient only To, Message-ID and the
    unsubscribe link change, so a 10,000-recipient send spends its time on the wire, not here.
    """

    def __init__(self, config: Config, digest: FrozenDigest, secret: bytes) -> None:
        self.config = config
        self.digest = digest
        self.secret = secret
        self.sender = config.digest.from_address or f"digest@{_host(config)}"
        self.boundary = "=_feedkit_" + hashlib.sha256(f"boundary{digest.id}".encode()).hexdigest()[:24]
        self.common = self._common_headers()
        self.text = _EncodedBody(digest.content.text)
        self.html = _EncodedBody(digest.content.html)

    def build(self, address: str, *, test: bool = False) -> OutgoingMessage:
        link = unsubscribe_link(self.config, address, self.secret)
        message_id = self.message_id(address, test=test)
        headers = [
            ("To", _header_address(address)),
            ("Message-ID", message_id),
            ("List-Unsubscribe", f"<{link}>, <mailto:{self._unsubscribe_mailto()}>"),
        ]
        boundary = b"--" + self.boundary.encode()
        body = b"".join(
            [
                boundary, b"\r\nContent-Type: text/plain; charset=utf-8\r\n", _QP_HEADER,
                self.text.fill(link), b"\r\n",
                boundary, b"\r\nContent-Type: text/html; charset=utf-8\r\n", _QP_HEADER,
                self.html.fill(_html_attribute(link)), b"\r\n",
                boundary, b"--\r\n",
            ]
        )  # fmt: skip
        head = self.common + _encode_headers(headers)
        return OutgoingMessage(address, message_id, head + _CRLF + body)

    def message_id(self, address: str, *, test: bool = False) -> str:
        """The same for every resend of this digest to this address; a test send gets its own."""
        kind = "test" if test else "digest"
        digest = hmac.new(self.secret, f"{kind}\0{self.digest.id}\0{address.lower()}".encode(), "sha256")
        return f"<{kind}-{self.digest.id}.{digest.hexdigest()[:20]}@{_host(self.config)}>"

    def _common_headers(self) -> bytes:
        digest = self.config.digest
        sender = formataddr((digest.from_name or self.config.site.title, self.sender), charset="utf-8")
        headers = [
            ("From", _one_line(sender)),
            ("Reply-To", digest.reply_to or self.sender),
            ("Subject", _encoded_word(self.digest.content.subject)),
            ("Date", format_datetime(self.digest.created_at)),
            ("List-Id", f"{_encoded_word(self.config.site.title)} <digest.{_host(self.config)}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/alternative; boundary="{self.boundary}"'),
        ]
        return _encode_headers(headers)

    def _unsubscribe_mailto(self) -> str:
        address = self.config.digest.unsubscribe_mailto or self.sender
        return f"{address}?subject=unsubscribe"


def _host(config: Config) -> str:
    return urlsplit(config.base_url).hostname or "localhost"


def _one_line(value: str) -> str:
    """No CR or LF can reach a header: a title with a newline cannot add one."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _encoded_word(value: str) -> str:
    text = _one_line(value)
    return text if text.isascii() else Header(text, "utf-8").encode(maxlinelen=998)


def _header_address(address: str) -> str:
    if "\r" in address or "\n" in address:
        raise PermanentDeliveryError(f"{address!r}: an address cannot contain a line break")
    return address if address.isascii() else _encoded_word(address)


def _encode_headers(headers: list[tuple[str, str]]) -> bytes:
    return b"".join(f"{name}: {_one_line(value)}".encode("ascii", "replace") + _CRLF for name, value in headers)


def _html_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


_QP_HEADER = b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
_SOFT_BREAK = b"=\r\n"


class _EncodedBody:
    """A body quoted-printable-encoded once, with a gap for each recipient's unsubscribe link.

    The text around each placeholder is encoded on its own and joined to the encoded link with
    soft line breaks ('=' CRLF), which decode to nothing: the result is valid quoted-printable for
    the whole body, at the cost of encoding only the link per recipient.
    """

    def __init__(self, text: str) -> None:
        self.pieces = [_quoted_printable(piece) for piece in text.split(UNSUBSCRIBE_PLACEHOLDER)]

    def fill(self, link: str) -> bytes:
        encoded_link = _SOFT_BREAK + _quoted_printable(link) + _SOFT_BREAK
        return encoded_link.join(self.pieces)


def _quoted_printable(text: str) -> bytes:
    """Quoted-printable with CRLF everywhere: b2a_qp writes its soft line breaks with a bare LF."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")


# -- transports -------------------------------------------------------------------------------


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

    def send(self, sender: str, message: OutgoingMessage) -> None:
        name = message.message_id.strip("<>").split("@")[0] + ".eml"
        write_atomic(self.outbox / name, message.data)


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message; reopened if it drops."""

    def __init__(self, config: Config, password: str | None, context: ssl.SSLContext | None = None) -> None:
        self.settings = config.smtp
        self.password = password
        self.context = context or _tls_context()
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, sender: str, message: OutgoingMessage) -> None:
        try:
            connection = self.connection or self._connect()
            refused = connection.sendmail(sender, [message.recipient], message.data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _reply_error(code, reply) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop_if_closed(exc.smtp_code)
            raise _reply_error(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TransientDeliveryError(f"connection to {self._where()} lost ({exc})") from exc
        except UnicodeEncodeError as exc:  # an address that is not ASCII: no server without SMTPUTF8 takes it
            raise PermanentDeliveryError(f"{message.recipient!r} cannot be sent without SMTPUTF8") from exc
        if refused:
            code, reply = next(iter(refused.values()))
            raise _reply_error(code, reply)

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None

    def _connect(self) -> smtplib.SMTP:
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

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.security == "tls":
            return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=self.context)
        return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)

    def _translate(self, exc: Exception) -> FeedkitError:
        """A failed connection as the one error a user can act on."""
        settings = self.settings
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return MailConfigError(
                f"{self._where()}: the server refused the login for {settings.username!r} ({exc.smtp_code})",
                f"check [smtp] username and the password in ${settings.password_env}",
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return MailConfigError(f"{self._where()}: {exc}", "set [smtp] security to match the server")
        if isinstance(exc, ssl.SSLError):
            return MailConfigError(
                f"{self._where()}: TLS failed ({exc.reason})", "check [smtp] security, port and the certificate"
            )
        return ServerUnreachableError(
            f"cannot reach the mail server at {self._where()} ({exc})",
            "check [smtp] host and port; what was not sent stays pending for 'feedkit digest resume'",
        )

    def _drop_if_closed(self, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self.close()

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"


def _reply_error(code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{code} {_one_line(text)}"
    return PermanentDeliveryError(message) if 500 <= code < 600 else TransientDeliveryError(message)


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def open_transport(config: Config, context: ssl.SSLContext | None = None) -> FileTransport | SmtpTransport:
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
