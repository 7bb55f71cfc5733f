"""Returned mail is read for what it is, from a corpus of real messages, and garbage never raises.

tests/bounces/ holds one .eml per case, written for these tests after the formats MTAs and
providers are documented to send; expected.toml says what `classify` must make of each.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedkit import bounceparse
from feedkit.bounceparse import Kind, Report, classify
from tests.regex_steps import StepCounter

CORPUS = Path(__file__).parent / "bounces"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text("utf-8"))
CORPUS_FILES = sorted(path.name for path in CORPUS.glob("*.eml"))
SAFETY_NET = "could not be read as an e-mail message"


def read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_every_corpus_message_has_its_expected_outcome_and_no_more() -> None:
    """expected.toml names exactly the .eml files in tests/bounces/."""
    assert sorted(EXPECTED) == CORPUS_FILES


def test_corpus_covers_every_kind() -> None:
    """The corpus has at least 40 messages and an example of every kind."""
    kinds = {entry["kind"] for entry in EXPECTED.values()}
    assert len(CORPUS_FILES) >= 40
    assert kinds == {kind.value for kind in Kind}


def observed(report: Report, entry: dict[str, Any]) -> dict[str, Any]:
    """The fields of `report` that `entry` has expectations for, in the table's own terms."""
    seen: dict[str, Any] = {
        "kind": report.kind.value,
        "recipients": list(report.recipients),
        "status": report.status,
        "original_message_id": report.original_message_id,
    }
    if "diagnostic" in entry:
        seen["diagnostic"] = report.diagnostic
    if "envelope_to" in entry:
        seen["envelope_to"] = list(report.envelope_to)
    if "original_senders" in entry:
        seen["original_senders"] = list(report.original_senders)
    if "per_recipient" in entry:
        seen["per_recipient"] = [[r.address, r.kind.value, r.status] for r in report.per_recipient]
    if "reason_contains" in entry:
        # The wanted words where the reason has them, else the whole reason, to show in a failure.
        words = entry["reason_contains"]
        seen["reason_contains"] = words if words in report.reason else report.reason
    return seen


def wanted(entry: dict[str, Any]) -> dict[str, Any]:
    return {"recipients": [], "status": None, "original_message_id": None} | entry


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_message_is_classified_as_expected(name: str) -> None:
    """Each corpus message gets the kind, recipients, status and Message-ID the table gives."""
    entry = EXPECTED[name]
    assert observed(classify(read(name)), entry) == wanted(entry)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_line_endings_never_change_the_outcome(name: str) -> None:
    """The same message with CRLF or with LF line endings is read the same way."""
    data = read(name)
    with_lf = data.replace(b"\r\n", b"\n")
    with_crlf = with_lf.replace(b"\n", b"\r\n")
    assert classify(with_crlf) == classify(with_lf)


def test_every_report_has_a_one_line_reason() -> None:
    """Every corpus message gets a reason, on one line, fit for a log."""
    reasons = {name: classify(read(name)).reason for name in CORPUS_FILES}
    assert {name: reason for name, reason in reasons.items() if not reason or "\n" in reason} == {}


def test_envelope_addresses_keep_their_case_for_verp_tokens() -> None:
    """Addresses the report was sent to keep their case: a VERP token may be case-sensitive."""
    message = (
        b"X-Original-To: Bounces+Tk9aQ@Example.org\n"
        b"Delivered-To: Bounces+Tk9aQ@Example.org\n"
        b"To: Bounces+Tk9aQ@Example.org\n"
        b"From: MAILER-DAEMON@mx.example.com\n"
        b"Subject: failure notice\n\n"
        b"<Anna@Example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n"
    )
    report = classify(message)
    assert report.envelope_to == ("Bounces+Tk9aQ@Example.org",)
    assert report.recipients == ("anna@example.com",)


def test_the_date_a_report_gives_is_read_with_its_zone() -> None:
    """A report's Date is read as an aware moment; one without a zone is taken as UTC, and one
    that cannot be read is None."""
    head = b"From: MAILER-DAEMON@mx.example.com\nSubject: failure notice\n"
    body = b"\n<anna@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n"
    dates = {
        b"Mon, 02 Jun 2025 10:00:00 +0200": datetime(2025, 6, 2, 8, tzinfo=UTC),
        b"Mon, 02 Jun 2025 10:00:00 -0000": datetime(2025, 6, 2, 10, tzinfo=UTC),
        b"the second of June": None,
        b"Mon, 02 Jun 2025 10:00:00 +9999": None,
    }
    for written, moment in dates.items():
        assert classify(head + b"Date: " + written + b"\n" + body).date == moment


def test_codes_in_the_quoted_original_are_not_read() -> None:
    """A status code in the copy of the original message is the digest's text, not the server's."""
    message = read("qmail_no_mailbox.eml").replace(b"(#5.1.1)", b"")
    message += b"\nThe film '550 5.7.1' opens on Friday.\n"
    report = classify(message)
    assert (report.kind, report.status) == (Kind.HARD_BOUNCE, None)


def test_a_charset_name_python_cannot_look_up_is_read_as_utf8() -> None:
    """A bounce whose charset is unknown or holds a NUL byte is still read, as UTF-8."""
    head = b"From: MAILER-DAEMON@mx.example.com\nSubject: failure notice\n"
    body = b"\n<anna@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n"
    for charset in (b"no-such-charset", b"utf-8\x00"):
        content_type = b'Content-Type: text/plain; charset="' + charset + b'"\n'
        report = classify(head + content_type + body)
        assert (report.kind, report.recipients) == (Kind.HARD_BOUNCE, ("anna@example.com",))


def test_a_recipient_with_no_local_part_is_no_recipient() -> None:
    """A Final-Recipient of "@host", a source route's leftover, names no one; the address the
    server's words give is reported instead."""
    message = (
        b"From: MAILER-DAEMON@relay.example.net\nSubject: Returned mail\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=Z\n\n"
        b"--Z\nContent-Type: text/plain\n\n<ivan@example.net>:\n550 5.1.2 Host unknown\n"
        b"--Z\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.example.net\n\n"
        b"Final-Recipient: rfc822; @mx.example.net\nAction: failed\nStatus: 5.1.2\n--Z--\n"
    )
    report = classify(message)
    assert (report.kind, report.recipients) == (Kind.HARD_BOUNCE, ("ivan@example.net",))


# -- property tests -----------------------------------------------------------------------------

HEADER_PIECES = [
    b"From: MAILER-DAEMON@mx.example.com\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=X\n",
    b"Content-Type: message/delivery-status\n",
    b"Content-Type: message/feedback-report\n",
    b"Content-Type: message/rfc822\n",
    b"Content-Type: text/plain; charset=no-such-charset\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"X-Failed-Recipients: a@example.com, \xff@\n",
    b"Auto-Submitted: auto-replied\n",
    b"Subject: =?utf-8?b?////?= =?bogus?q?x?=\n",
    b'To: "unclosed <a@example.com\n',
    b"\n",
    b"--X\n",
    b"--X--\n",
    b"Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n",
    b"Feedback-Type: abuse\nOriginal-Rcpt-To: \n",
    b"550 5.1.1 <a@example.com>: user unknown\n",
    b"<a@example.com>:\n",
    b"=\n",
    b"\xc3\x28\xa0\xa1\x00\r",
]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    """Any bytes at all give a Report, never an exception."""
    assert isinstance(classify(data).kind, Kind)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(HEADER_PIECES) | st.binary(max_size=40), max_size=40))
def test_mail_shaped_garbage_is_read_not_caught(pieces: list[bytes]) -> None:
    """Message-shaped garbage is read by the parser proper; the safety net never catches it."""
    report = classify(b"".join(pieces))
    assert not report.reason.startswith(SAFETY_NET), report.reason


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(CORPUS_FILES),
    cut=st.integers(min_value=0),
    junk=st.binary(max_size=30),
)
def test_damaged_corpus_messages_are_read_not_caught(name: str, cut: int, junk: bytes) -> None:
    """A corpus message cut short anywhere, with junk spliced in, is still read without the net."""
    data = read(name)
    at = cut % (len(data) + 1)
    report = classify(data[:at] + junk + data[at : at + len(data) // 3])
    assert not report.reason.startswith(SAFETY_NET), report.reason


# -- every pattern does work linear in the text -------------------------------------------------

Shape = tuple[str, str, str]  # prefix, repeated unit, suffix
PATTERN_SHAPES: dict[str, tuple[str, list[Shape]]] = {
    "_MESSAGE_ID": ("search", [("", "<a", ""), ("<", "a@", ""), ("", "<a@a", "")]),
    "_ENHANCED_CODE": ("search", [("", "5.1", ""), ("", "5.1.1.", "1"), ("", "55", "")]),
    "_TEXT_CODE": ("finditer", [("", "550 5.", ""), ("", "(#5.1", ""), ("", "status: 5.", "")]),
    "_BASIC_CODE": ("search", [("", "said: ", ""), ("", "said:5", ""), ("", "\n550.", "")]),
    "_ADDRESS": ("search", [("", "a", ""), ("", "a@", ""), ("a@", "b", " ")]),
    "_ANGLE_RECIPIENT": ("finditer", [("", "<a", ""), ("", "\n <a>", ""), (" ", "<", "")]),
    "_NAMED_RECIPIENT": ("finditer", [("", "rcpt to:a", ""), ("your message to ", "a", "")]),
    "_LEADING_ADDRESS": ("match", [("<", "a", ""), ("", "a@", " "), ('"a@', "b", '"')]),
    "_TRANSCRIPT_RECIPIENT": (
        "finditer",
        [("", "\n554 <a", ""), ("554 <", "a", ">.."), ("", "5", "")],
    ),
    "_ERROR_CODE_RECIPIENT": (
        "finditer",
        [("", "\na@b x", ""), ("a@b ", "x", ","), ("a@b ", " ", ", error_code")],
    ),
}
SPACES: list[Shape] = [("", " ", ""), ("x", " ", "y"), ("", "a", "")]


def module_patterns() -> set[str]:
    return {name for name, value in vars(bounceparse).items() if isinstance(value, re.Pattern)}


def test_every_pattern_in_the_module_is_checked() -> None:
    """A new pattern in bounceparse needs its adversarial inputs listed here."""
    assert module_patterns() == set(PATTERN_SHAPES)


@pytest.mark.parametrize(("name", "mode", "shapes"), [(n, *v) for n, v in PATTERN_SHAPES.items()])
def test_pattern_work_grows_linearly(name: str, mode: str, shapes: list[Shape]) -> None:
    """On each adversarial text, twice the input costs the pattern at most 2.5 times the steps."""
    counter = StepCounter(getattr(bounceparse, name))
    growth = {}
    for prefix, unit, suffix in [*shapes, *SPACES]:
        small, _ = counter.run(prefix + unit * 150 + suffix, mode)
        large, _ = counter.run(prefix + unit * 300 + suffix, mode)
        growth[(prefix, unit, suffix)] = round(large / small, 2)
    assert {shape: ratio for shape, ratio in growth.items() if ratio > 2.5} == {}
