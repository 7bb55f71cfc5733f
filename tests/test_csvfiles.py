"""Subscriber lists as spreadsheets and newsletter services export them."""

from __future__ import annotations

import pytest

from feedkit.newsletter.csvfiles import (
    NoAddressColumnError,
    SubscriberRow,
    SubscriberRows,
    read_subscriber_rows,
)


def pairs(found: SubscriberRows) -> list[tuple[str, str]]:
    return [(row.address, row.name) for row in found.rows]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_recognised(delimiter: str) -> None:
    """Excel in a European locale writes semicolons; other tools tabs or pipes."""
    text = delimiter.join(["Name", "E-mail"]) + "\n"
    text += delimiter.join(["Ann Smith", "ann@example.org"]) + "\n"
    text += delimiter.join(["Bob, Jr.", "bob@example.org"]) + "\n"
    if delimiter == ",":
        text = text.replace("Bob, Jr.", '"Bob, Jr."')
    found = read_subscriber_rows(text)
    assert pairs(found) == [("ann@example.org", "Ann Smith"), ("bob@example.org", "Bob, Jr.")]
    assert (found.email_column, found.had_header) == (1, True)


def test_the_address_column_is_found_by_content_when_there_is_no_header() -> None:
    text = "Ann;ann@example.org;2024-01-02\nBob;bob@example.org;2024-02-03\n"
    found = read_subscriber_rows(text)
    assert pairs(found) == [("ann@example.org", "Ann"), ("bob@example.org", "Bob")]
    assert (found.email_column, found.had_header) == (1, False)


def test_a_service_export_with_many_columns_keeps_email_and_name() -> None:
    """A Mailchimp-style export: the address and the split name are found among the others."""
    text = (
        "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME\n"
        "ann@example.org,Ann,Smith,2,2024-01-02 10:00:00\n"
        "bob@example.org,,Jones,1,2024-01-03 10:00:00\n"
    )
    found = read_subscriber_rows(text)
    assert pairs(found) == [("ann@example.org", "Ann Smith"), ("bob@example.org", "Jones")]
    assert found.email_column == 0


def test_a_single_column_list_of_addresses_is_read() -> None:
    found = read_subscriber_rows("ann@example.org\nbob@example.org\n")
    assert [row.address for row in found.rows] == ["ann@example.org", "bob@example.org"]


def test_blank_lines_are_skipped_and_cells_are_trimmed() -> None:
    found = read_subscriber_rows("email,name\n\n  ann@example.org , Ann \n\n")
    assert pairs(found) == [("ann@example.org", "Ann")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "the file is empty"), ("name,city\nAnn,Paris\n", "no column holds e-mail addresses")],
)
def test_a_file_without_addresses_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(NoAddressColumnError, match=reason):
        read_subscriber_rows(text)


def test_status_and_topics_columns_are_read_where_there_are() -> None:
    """An export from another service keeps who left, and what each reader chose."""
    text = (
        "Email;Status;Topics\nann@example.org;unsubscribed;\nbob@example.org;active;blu-ray dvd\n"
    )
    assert read_subscriber_rows(text).rows == [
        SubscriberRow("ann@example.org", "", "unsubscribed", ""),
        SubscriberRow("bob@example.org", "", "active", "blu-ray dvd"),
    ]
