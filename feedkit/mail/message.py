"""E-mail for the digest: unsubscribe tokens, messages built once per digest, and transports.

smtplib, ssl and socket errors are translated here, once, into the DeliveryError that says what
the sender should do next; nothing else sees them:

    DeliveryError
    ├── TransientDeliveryError      a 4xx reply: try this message again
    │   └── ConnectionProblemError  no answer before the message was complete: safe to retry
    ├── PermanentDeliveryError      a 5xx to RCPT: this recipient never gets it
    ├── MessageRejectedError        a 5xx to MAIL FROM or DATA: stop, nobody can get it
    └── OutcomeUnknownError         no reply after the whole message: it may have arrived
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

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
from feedkit.output import write_atomic
from feedkit.store.newsletter import FrozenDigest

if TYPE_CHECKING:
    from typing_extensions import Buffer

SECRET_ENV = "FEEDKIT_SECRET"  # noqa: S105 - the name of a variable, not a secret
UNSUBSCRIBE_PLACEHOLDER = "FEEDKIT-UNSUBSCRIBE-URL-0f3c"  # swapped for each recipient's own link
_CRLF = b"\r\n"


# -- unsubscribe tokens --------------------------------------------------------------------------


MIN_SECRET_LENGTH = 16


def secret_from_environment() -> bytes:
    """The secret that signs unsubscribe links; the error says whether it is unset or too short."""
    secret = os.environ.get(SECRET_ENV, "")
    if len(secret) >= MIN_SECRET_LENGTH:
        return secret.encode()
    problem = "is not set"
    if secret:
        problem = f"is shorter than {MIN_SECRET_LENGTH} characters (it has {len(secret)})"
    make_one = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    raise MailConfigError(
        f"{SECRET_ENV} {problem}; unsubscribe links are signed with it",
        f'export {SECRET_ENV}="$({make_one})"',
    )


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
        self.host = mail_host(config)
        self.sender = config.digest.from_address or f"digest@{self.host}"
        boundary_seed = f"boundary{digest.id}{digest.nonce}".encode()
        self.boundary = "=_feedkit_" + hashlib.sha256(boundary_seed).hexdigest()[:24]
        self.common = self._common_headers()
        self.text = _EncodedBody(digest.content.text)
        self.html = _EncodedBody(digest.content.html)

    def build(self, address: str, *, test: bool = False) -> OutgoingMessage:
        link = _ascii_url(unsubscribe_link(self.config, address, self.secret))
        message_id = self.test_message_id() if test else self.message_id(address)
        boundary = b"--" + self.boundary.encode()
        body = b"".join(
            [
                boundary,
                b"\r\nContent-Type: text/plain; charset=utf-8\r\n",
                _QP_HEADER,
                self.text.fill(link),
                b"\r\n",
                boundary,
                b"\r\nContent-Type: text/html; charset=utf-8\r\n",
                _QP_HEADER,
                self.html.fill(_html_attribute(link)),
                b"\r\n",
                boundary,
                b"--\r\n",
            ]
        )
        head = self.common + self._recipient_headers(address, message_id, link)
        return OutgoingMessage(address, message_id, head + _CRLF + body)

    def message_id(self, address: str) -> str:
        """The same for every resend of this digest to this address.

        The digest's random nonce keeps ids unique even if the state database is lost and digest
        numbers start again; digests frozen before nonces existed keep their earlier form.
        """
        nonce = self.digest.nonce
        seed = f"digest\0{self.digest.id}\0{nonce}\0{address.lower()}".encode()
        signature = hmac.new(self.secret, seed, "sha256").hexdigest()[:20]
        middle = f"{nonce}.{signature}" if nonce else signature
        return f"<digest-{self.digest.id}.{middle}@{self.host}>"

    def test_message_id(self) -> str:
        """Every test send is a message of its own."""
        return f"<test-{secrets.token_hex(10)}@{self.host}>"

    def _recipient_headers(self, address: str, message_id: str, link: str) -> bytes:
        if not address.isascii() or "\r" in address or "\n" in address:
            raise PermanentDeliveryError(f"{address!r}: not an address an SMTP server can take")
        mailto = _ascii_url(self._unsubscribe_mailto())
        # Folded after the comma: each line stays short whatever the link's length.
        lines = f"To: {address}\r\nMessage-ID: {message_id}\r\nList-Unsubscribe: <{link}>,\r\n <mailto:{mailto}>\r\n"
        return lines.encode("ascii")

    def _common_headers(self) -> bytes:
        """Headers shared by every recipient, each folded and encoded once."""
        digest = self.config.digest
        title = self.config.site.title
        content_type = f'multipart/alternative; boundary="{self.boundary}"'
        return b"".join(
            [
                named_header("From", digest.from_name or title, self.sender),
                folded_header("Reply-To", digest.reply_to or self.sender),
                folded_header("Subject", self.digest.content.subject),
                folded_header("Date", format_datetime(self.digest.created_at)),
                named_header("List-Id", title, f"digest.{self.host}"),
                folded_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                folded_header("MIME-Version", "1.0"),
                folded_header("Content-Type", content_type),
            ]
        )

    def _unsubscribe_mailto(self) -> str:
        address = self.config.digest.unsubscribe_mailto or self.sender
        return f"{address}?subject=unsubscribe"


# RFC 5322 asks for lines of at most 78 characters (998 at the very most); RFC 2047 encoded words
# may be at most 75. The stdlib's legacy Header class splits encoded words correctly at 76.
LINE_LIMIT = 76


def folded_header(name: str, value: str) -> bytes:
    """One unstructured header: plain ASCII folded at spaces where it can be, else encoded words."""
    text = one_line(value)
    room = LINE_LIMIT - len(name) - 2
    if text.isascii() and all(len(word) <= room for word in text.split(" ")):
        return _fold_at_spaces(name, text)
    return f"{name}: {_encoded_words(name, text)}\r\n".encode("ascii")


def named_header(name: str, phrase: str, address: str) -> bytes:
    """A header of a display name and an address (From, List-Id), with the name cleaned first."""
    text = one_line(phrase)
    room = LINE_LIMIT - len(name) - 2
    if text.isascii() and all(len(word) <= room for word in text.split(" ")):
        return _fold_at_spaces(name, formataddr((text, address)))
    return f"{name}: {_encoded_words(name, text)}\r\n <{address}>\r\n".encode("ascii")


def _fold_at_spaces(name: str, text: str) -> bytes:
    lines = [f"{name}:"]
    for word in text.split(" "):
        if len(lines[-1]) + 1 + len(word) > LINE_LIMIT and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _encoded_words(name: str, text: str) -> str:
    header = Header(text, "utf-8", maxlinelen=LINE_LIMIT, header_name=name)
    return header.encode(linesep="\r\n")


def mail_host(config: Config) -> str:
    """The site's host name in ASCII (an international domain in its IDNA form)."""
    host = urlsplit(config.base_url).hostname or "localhost"
    return host.encode("idna").decode("ascii") if not host.isascii() else host


def one_line(value: str) -> str:
    """No CR or LF can reach a header: a title with a newline cannot add one."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _ascii_url(url: str) -> str:
    """A URL with any non-ASCII character percent-encoded, fit for a header."""
    return url if url.isascii() else quote(url, safe=_URL_SAFE)


_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


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


class _TrackedSMTPSSL(_TrackedSMTP, smtplib.SMTP_SSL):
    """The same, over implicit TLS."""


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message; reopened if it drops."""

    def __init__(self, config: Config, password: str | None, context: ssl.SSLContext | None = None) -> None:
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
            refused = connection.sendmail(sender, [message.recipient], message.data)
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

    def _message_error(self, code: int, reply: bytes | str) -> DeliveryError:
        """A 5xx to MAIL FROM or DATA condemns the message, not one recipient."""
        if not 500 <= code < 600:
            return _reply_error(code, reply)
        return MessageRejectedError(
            f"the mail server at {self._where()} refused the message itself ({code} {_reply_text(reply)})",
            "nobody can receive it as it is; fix the cause, then run 'feedkit digest resume'",
        )

    def _lost(self, exc: Exception, *, sent: bool) -> DeliveryError:
        if sent:
            return OutcomeUnknownError(f"no reply from {self._where()} after the whole message was sent ({exc})")
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
            return _TrackedSMTPSSL(settings.host, settings.port, timeout=settings.timeout, context=self.context)
        return _TrackedSMTP(settings.host, settings.port, timeout=settings.timeout)

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
