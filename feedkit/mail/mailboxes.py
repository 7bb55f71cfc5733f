"""Where returned mail is read from: one message on standard input, a maildir, an mbox file, or
an IMAP folder, whose messages are moved or flagged once each is recorded.

Maildirs and mbox files are only read, never changed: the state database remembers every message
read, so reading one again does nothing. imaplib, ssl and socket errors are translated here, once;
TLS is verified (imaplib's own default is not).
"""

from __future__ import annotations

import imaplib
import mailbox
import os
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

from feedkit.config import BounceSettings
from feedkit.errors import FeedkitError, MailConfigError, UsageError


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as it was read, and where from (for messages to the editor)."""

    data: bytes
    where: str
    uid: str = ""  # its IMAP UID


class Mailbox(Protocol):
    """Messages to read, each acknowledged once it is recorded; a context manager."""

    def __enter__(self) -> Mailbox: ...

    def __exit__(self, *exc: object) -> None: ...

    def messages(self) -> Iterator[Incoming]: ...

    def done(self, message: Incoming) -> None: ...


class _ReadOnly:
    """A mailbox whose messages are only read: nothing to acknowledge, nothing to close."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def done(self, message: Incoming) -> None:  # noqa: ARG002 - the interface
        return None


class OneMessage(_ReadOnly):
    """The one message an MTA pipes to the command (Postfix's pipe, procmail)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def messages(self) -> Iterator[Incoming]:
        yield Incoming(self.data, "standard input")


class MaildirBox(_ReadOnly):
    """Every message in a maildir's new/ and cur/, oldest first."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> Iterator[Incoming]:
        if not (self.path / "new").is_dir() or not (self.path / "cur").is_dir():
            raise UsageError(
                f"{self.path}: not a maildir (it has no new/ and cur/ folders)",
                "pass the folder that holds new/, cur/ and tmp/",
            )
        box = mailbox.Maildir(self.path, factory=None, create=False)
        try:
            for key in sorted(box.keys()):
                yield Incoming(box.get_bytes(key), f"{self.path}: {key}")
        except OSError as exc:
            raise FeedkitError(f"{self.path}: cannot be read ({exc.strerror})") from exc


class MboxBox(_ReadOnly):
    """Every message in an mbox file, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> Iterator[Incoming]:
        if not self.path.is_file():
            raise UsageError(f"{self.path}: no such mbox file", "pass the file the mail is in")
        try:
            box = mailbox.mbox(self.path, factory=None, create=False)
        except OSError as exc:
            raise FeedkitError(f"{self.path}: cannot be read ({exc.strerror})") from exc
        try:
            for number, key in enumerate(box.keys(), start=1):
                yield Incoming(box.get_bytes(key), f"{self.path}: message {number}")
        except OSError as exc:
            raise FeedkitError(f"{self.path}: cannot be read ({exc.strerror})") from exc
        finally:
            box.close()  # nothing was changed, so nothing is written


IMAP_TIMEOUT = 30  # seconds


class ImapBox:
    """One IMAP folder: unread messages are read without marking them, and each one recorded is
    then moved to `imap_move_to`, or flagged as read (\\Seen) where no folder is named."""

    def __init__(
        self, settings: BounceSettings, password: str, context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self.password = password
        self.context = context or ssl.create_default_context()
        self.connection: imaplib.IMAP4 | None = None
        self.capabilities: frozenset[str] = frozenset()  # as the server states them after login
        self.deleted = False  # copied, then flagged deleted: expunged at the end

    def __enter__(self) -> ImapBox:
        connection = self._connect()
        self.connection = connection
        try:
            self._call(connection.login, self.settings.imap_user, self.password)
            # Servers name some capabilities (MOVE among them) only once a user is logged in.
            stated = self._call(connection.capability)
            self.capabilities = frozenset(_text(stated).upper().split())
            self._select(connection)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def messages(self) -> Iterator[Incoming]:
        connection = self._open()
        wanted = "ALL" if self.settings.imap_move_to else "UNSEEN"
        found = self._call(connection.uid, "SEARCH", wanted)
        folder = f"{self._where()} {self.settings.imap_folder}"
        for uid in _text(found[0]).split():
            fetched = self._call(connection.uid, "FETCH", uid, "(BODY.PEEK[])")
            data = next((part[1] for part in fetched if isinstance(part, tuple)), b"")
            yield Incoming(data, f"{folder}: UID {uid}", uid)

    def done(self, message: Incoming) -> None:
        connection = self._open()
        target = self.settings.imap_move_to
        if not target:
            self._call(connection.uid, "STORE", message.uid, "+FLAGS", "(\\Seen)")
        elif "MOVE" in self.capabilities:
            self._call(connection.uid, "MOVE", message.uid, _quoted(target))
        else:  # servers without MOVE (RFC 6851): copy, then delete the original at the end
            self._call(connection.uid, "COPY", message.uid, _quoted(target))
            self._call(connection.uid, "STORE", message.uid, "+FLAGS", "(\\Deleted \\Seen)")
            self.deleted = True

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            if self.deleted:
                connection.expunge()
            connection.logout()
        except (imaplib.IMAP4.error, OSError):
            connection.shutdown()

    def _connect(self) -> imaplib.IMAP4:
        settings = self.settings
        try:
            if settings.imap_security == "tls":
                return imaplib.IMAP4_SSL(
                    settings.imap_host,
                    settings.imap_port,
                    ssl_context=self.context,
                    timeout=IMAP_TIMEOUT,
                )
            connection = imaplib.IMAP4(
                settings.imap_host, settings.imap_port, timeout=IMAP_TIMEOUT
            )
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._connect_error(exc) from exc
        if settings.imap_security == "starttls":
            try:
                connection.starttls(self.context)
            except (OSError, imaplib.IMAP4.error) as exc:
                connection.shutdown()
                raise self._connect_error(exc) from exc
        return connection

    def _connect_error(self, exc: Exception) -> FeedkitError:
        if isinstance(exc, ssl.SSLError | ssl.CertificateError | imaplib.IMAP4.error):
            return MailConfigError(
                f"{self._where()}: no secure IMAP connection ({exc})",
                "check [bounces] imap_security, imap_port and the server's certificate",
            )
        return FeedkitError(
            f"cannot reach the IMAP server at {self._where()} ({exc})",
            "check [bounces] imap_host and imap_port, and that the server is up",
        )

    def _select(self, connection: imaplib.IMAP4) -> None:
        folder = self.settings.imap_folder
        try:
            status, reply = connection.select(_quoted(folder))
            problem = _text(reply)
        except (OSError, imaplib.IMAP4.error) as exc:
            status, problem = "NO", str(exc)
        if status != "OK":
            raise MailConfigError(
                f"{self._where()}: cannot open the folder {folder!r} ({problem})",
                "check [bounces] imap_folder",
            )
        target = self.settings.imap_move_to
        if target:
            connection.create(_quoted(target))  # "already exists" is as good as made

    def _call(self, command: Callable[..., tuple[str, Any]], *args: str) -> list[Any]:
        """One IMAP command; a refusal or a lost connection becomes one error a user can read."""
        try:
            status, reply = command(*args)
        except imaplib.IMAP4.error as exc:
            raise self._refused(exc) from exc
        except OSError as exc:
            raise FeedkitError(f"lost the connection to {self._where()} ({exc})") from exc
        if status != "OK":
            raise FeedkitError(f"{self._where()}: the server refused a command ({_text(reply)})")
        return list(reply)

    def _refused(self, exc: imaplib.IMAP4.error) -> FeedkitError:
        reply = _text(list(exc.args))  # imaplib passes the server's reply on as bytes
        if self.connection is not None and self.connection.state == "NONAUTH":
            return MailConfigError(
                f"{self._where()}: the server refused the login for "
                f"{self.settings.imap_user!r} ({reply})",
                "check [bounces] imap_user and the password in "
                f"${self.settings.imap_password_env}",
            )
        return FeedkitError(f"{self._where()}: the server refused a command ({reply})")

    def _open(self) -> imaplib.IMAP4:
        if self.connection is None:
            raise RuntimeError("the IMAP mailbox is used outside its with-block")
        return self.connection

    def _where(self) -> str:
        return f"{self.settings.imap_host}:{self.settings.imap_port}"


def _quoted(name: str) -> str:
    """A folder name as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(reply: object) -> str:
    """A server's reply, or part of it, as one line of text."""
    parts = reply if isinstance(reply, list) else [reply]
    words = [_decoded(part) for part in parts if part is not None]
    return " ".join(" ".join(words).split())


def _decoded(part: object) -> str:
    return part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)


def open_imap(settings: BounceSettings, context: ssl.SSLContext | None = None) -> ImapBox:
    """The IMAP folder [bounces] names; the password is read from the environment here."""
    if not settings.imap_host or not settings.imap_user:
        raise UsageError(
            "--imap needs [bounces] imap_host and imap_user in config.toml",
            "name the mailbox the bounce address delivers to",
        )
    password = os.environ.get(settings.imap_password_env, "")
    if not password:
        raise MailConfigError(
            f"[bounces] imap_user is set but ${settings.imap_password_env} is empty",
            f"export {settings.imap_password_env}=... before reading the mailbox",
        )
    return ImapBox(settings, password, context)
