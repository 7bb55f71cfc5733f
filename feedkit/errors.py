"""The exceptions feedkit raises for problems a user can fix, and the exit code of each.

exit  exception                     what it means
 1    FeedkitError                  anything a user can act on; one `error:` line
 2    ├── ConfigError               config.toml missing, unreadable or invalid
 2    ├── UsageError                an option or setting that cannot work
 2    ├── MailConfigError           no secret, a refused login, TLS that fails
 2    ├── TemplateError             a digest template cannot be read or rendered
 3    ├── ContentError              content cannot be read, or --strict found problems
 4    ├── OutputError               an output file or folder cannot be written
 5    ├── StateError                the state database cannot be used, was lost, is newer
 6    ├── LockedError               another process is sending a digest
 7    ├── SendStoppedError          a send stopped early or delivered nothing
 8    ├── ServeError                the web side cannot listen where it was asked to
 1    ├── SubscriberError           an address that cannot be added
 -    └── DeliveryError             one message not delivered; the sender decides
          ├── TransientDeliveryError    a 4xx reply: try this message again
          │   └── ConnectionProblemError  no answer before the end: safe to retry
          ├── PermanentDeliveryError    a 5xx to RCPT: this recipient never gets it
          ├── MessageRejectedError      a 5xx to MAIL FROM or DATA: nobody can get it
          └── OutcomeUnknownError       no reply after the whole message: it may be there

Third-party exceptions are translated once, where they arise (sqlite3 in feedkit.store.db, smtplib
and ssl in feedkit.mail.transports). Any other exception is a bug and may show a traceback.
"""

from __future__ import annotations


class FeedkitError(Exception):
    """An error with a message fit for a user: what went wrong, where, and what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class ConfigError(FeedkitError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 2


class UsageError(FeedkitError):
    """An option or a setting from the environment that cannot work: a port out of range, a host
    that is not this machine's, a password too short, a password hash nobody can log in with."""

    exit_code = 2


class MailConfigError(FeedkitError):
    """The mail set-up cannot work as configured: no secret, a wrong password, TLS that fails."""

    exit_code = 2


class TemplateError(FeedkitError):
    """A digest template cannot be read or rendered."""

    exit_code = 2


class ContentError(FeedkitError):
    """The content folder cannot be read, or a strict build found problems."""

    exit_code = 3


class OutputError(FeedkitError):
    """An output file or folder cannot be written."""

    exit_code = 4


class StateError(FeedkitError):
    """The state database cannot be opened, migrated or queried, was lost, or is from a newer
    feedkit."""

    exit_code = 5


class LockedError(FeedkitError):
    """Another process is sending a digest."""

    exit_code = 6


class SendStoppedError(FeedkitError):
    """A send ended early, or delivered nothing; what was not sent stays pending."""

    exit_code = 7


class ServeError(FeedkitError):
    """The web side cannot listen where it was asked to (the address is in use)."""

    exit_code = 8


class SubscriberError(FeedkitError):
    """An address cannot be added: malformed, or it left and may not be brought back."""


class DeliveryError(FeedkitError):
    """A message was not delivered."""


class TransientDeliveryError(DeliveryError):
    """Worth another try later: a 4xx reply."""


class ConnectionProblemError(TransientDeliveryError):
    """No answer from the server (refused, timed out or dropped) before it had the whole
    message."""


class PermanentDeliveryError(DeliveryError):
    """The server refused this recipient for good (a 5xx reply to RCPT)."""


class MessageRejectedError(DeliveryError):
    """The server refused the message itself (5xx to MAIL FROM or DATA): nobody can receive it."""


class OutcomeUnknownError(DeliveryError):
    """The whole message went out but no reply came: the server may or may not have taken it."""
