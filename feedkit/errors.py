"""The exceptions feedkit raises for problems a user can fix.

    FeedkitError            anything a user can act on; the CLI prints it as one line and exits 1
    ├── ConfigError         config.toml is missing, unreadable or invalid (lists every problem)
    ├── ContentError        the content folder cannot be read at all, or --strict found problems
    ├── OutputError         an output file or folder cannot be written
    └── StateError          the state database cannot be opened or is damaged

Any other exception is a bug in feedkit and may show a traceback.
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


class ContentError(FeedkitError):
    """The content folder cannot be read, or a strict build found problems."""

    exit_code = 3


class OutputError(FeedkitError):
    """An output file or folder cannot be written."""

    exit_code = 4


class StateError(FeedkitError):
    """The state database cannot be opened, migrated or queried."""

    exit_code = 5
