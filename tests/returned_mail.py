"""Returned mail for tests, written after the formats: a delivery-status notification as Postfix
sends one (RFC 3464), a feedback-loop complaint (RFC 5965) and a vacation auto-reply (RFC 3834)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

WHEN = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def dsn(
    *,
    to: str,
    recipient: str,
    status: str = "5.1.1",
    message_id: str = "<unrelated-1@elsewhere.example.com>",
    date: datetime = WHEN,
) -> bytes:
    """A bounce sent to `to` (the envelope sender) about `recipient`; 5.x.x hard, 4.x.x soft."""
    reply = "550" if status.startswith("5") else "452"
    words = "User unknown" if status == "5.1.1" else "Mailbox full"
    text = f"""\
Return-Path: <>
Delivered-To: {to}
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Date: {format_datetime(date)}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mx.example.net said: {reply} {status} {words}

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: {format_datetime(date)}

Final-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Diagnostic-Code: smtp; {reply} {status} {words}

--dsn-boundary
Content-Type: text/rfc822-headers

Return-Path: <{to}>
From: Test Reviews <digest@reviews.example.org>
To: {recipient}
Subject: Test Reviews: 2 new reviews
Message-ID: {message_id}

--dsn-boundary--
"""
    return text.encode("ascii")


def complaint(
    *,
    envelope_sender: str,
    recipient: str,
    message_id: str = "<unrelated-2@elsewhere.example.com>",
    date: datetime = WHEN,
) -> bytes:
    """A feedback-loop report, sent to the site's feedback address, of a copy that went out
    with `envelope_sender` to `recipient`."""
    text = f"""\
From: Feedback Loop <fbl@isp.example.com>
To: fbl@reviews.example.org
Subject: Abuse report
Date: {format_datetime(date)}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-boundary"

--arf-boundary
Content-Type: text/plain; charset=us-ascii

A reader reported the attached message as spam.

--arf-boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Mail-From: <{envelope_sender}>
Original-Rcpt-To: <{recipient}>

--arf-boundary
Content-Type: message/rfc822

Return-Path: <{envelope_sender}>
From: Test Reviews <digest@reviews.example.org>
To: {recipient}
Subject: Test Reviews: 2 new reviews
Message-ID: {message_id}

Two new reviews.

--arf-boundary--
"""
    return text.encode("ascii")


def vacation(*, to: str, sender: str, date: datetime = WHEN) -> bytes:
    """An out-of-office reply from `sender`."""
    text = f"""\
From: {sender}
To: {to}
Subject: Away until Monday
Date: {format_datetime(date)}
Auto-Submitted: auto-replied

I am away until Monday and will read your message then.
"""
    return text.encode("ascii")
