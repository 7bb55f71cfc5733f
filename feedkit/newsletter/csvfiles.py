"""Reading a subscriber list as spreadsheets and newsletter services export it.

Comma, semicolon, tab or pipe between fields; the e-mail column found by its header (email,
e-mail, mail, address, …) or, with no header, by its content; a name column where there is one,
and, with a header, a status and a topics column where there are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

DELIMITERS = ",;\t|"
EMAIL_HEADERS = frozenset(
    {
        "email",
        "e-mail",
        "mail",
        "address",
        "email address",
        "e-mail address",
        "mail address",
        "emailaddress",
        "email_address",
    }
)
NAME_HEADERS = frozenset({"name", "full name", "fullname", "full_name", "display name", "nom"})
# Services that split the name (Mailchimp, Buttondown, Substack exports) get it joined back.
FIRST_NAME_HEADERS = frozenset({"first name", "first_name", "firstname", "given name", "fname"})
LAST_NAME_HEADERS = frozenset({"last name", "last_name", "lastname", "surname", "lname"})
STATUS_HEADERS = frozenset({"status", "state", "subscription status"})
TOPIC_HEADERS = frozenset({"topics", "topic", "groups", "interests", "tags"})
_LOOKS_LIKE_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    """One row as written: status and topics are "" where the file has no such column."""

    address: str
    name: str = ""
    status: str = ""
    topics: str = ""


@dataclass(frozen=True, slots=True)
class SubscriberRows:
    """Every row, and which column held the addresses, for the report."""

    rows: list[SubscriberRow]
    email_column: int
    had_header: bool


class NoAddressColumnError(ValueError):
    """No column of the file holds e-mail addresses."""


def read_subscriber_rows(text: str) -> SubscriberRows:
    """The rows of a CSV text; raise NoAddressColumnError if no column holds addresses."""
    records = [row for row in csv.reader(text.splitlines(), _dialect(text)) if any(row)]
    if not records:
        raise NoAddressColumnError("the file is empty")
    header = [cell.strip().lower() for cell in records[0]]
    email_column = _column(header, EMAIL_HEADERS)
    had_header = email_column is not None
    body = records[1:] if had_header else records
    if email_column is None:
        email_column = _column_by_content(body)
    name_columns = _name_columns(header, body, email_column, had_header=had_header)
    status_column = _column(header, STATUS_HEADERS) if had_header else None
    topics_column = _column(header, TOPIC_HEADERS) if had_header else None
    rows = [
        SubscriberRow(
            _cell(row, email_column),
            _name(row, name_columns),
            _cell(row, status_column),
            _cell(row, topics_column),
        )
        for row in body
    ]
    return SubscriberRows(rows, email_column, had_header)


def _name_columns(
    header: Sequence[str], body: Sequence[Sequence[str]], email_column: int, *, had_header: bool
) -> list[int]:
    """Where the name is: one column, a first and a last name column, or none."""
    if not had_header:
        other = _other_column(body, email_column)
        return [] if other is None else [other]
    whole = _column(header, NAME_HEADERS)
    if whole is not None:
        return [whole]
    parts = (_column(header, FIRST_NAME_HEADERS), _column(header, LAST_NAME_HEADERS))
    return [index for index in parts if index is not None]


def _name(row: Sequence[str], columns: Sequence[int]) -> str:
    return " ".join(part for part in (_cell(row, index) for index in columns) if part)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:  # one column, or nothing the sniffer can tell: commas
        return csv.excel


def _column(header: Sequence[str], names: frozenset[str]) -> int | None:
    return next((index for index, cell in enumerate(header) if cell in names), None)


def _column_by_content(rows: Sequence[Sequence[str]]) -> int:
    """The column where most cells look like an address."""
    width = max(len(row) for row in rows)
    scores = [
        sum(_looks_like_address(_cell(row, index)) for row in rows) for index in range(width)
    ]
    best = max(range(width), key=lambda index: scores[index])
    if scores[best] == 0:
        raise NoAddressColumnError("no column holds e-mail addresses")
    return best


def _other_column(rows: Sequence[Sequence[str]], email_column: int) -> int | None:
    """Without a header, the name is the first other column that has any text."""
    width = max(len(row) for row in rows)
    others = [index for index in range(width) if index != email_column]
    return next((index for index in others if any(_cell(row, index) for row in rows)), None)


def _looks_like_address(cell: str) -> bool:
    return bool(_LOOKS_LIKE_ADDRESS.match(cell))


def _cell(row: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()
