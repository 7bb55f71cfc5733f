"""The digest end to end against a real SMTP server (aiosmtpd): what arrives, once, despite
faults."""

from __future__ import annotations

import errno
import os
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import trustme

from feedkit.config import Config, load_config
from feedkit.errors import LockedError, MailConfigError, OutputError, SubscriberError
from feedkit.mail.transports import FileTransport, open_transport
from feedkit.newsletter import campaigns, history, subscriptions
from feedkit.newsletter.messages import DigestMessages, unsubscribe_link
from feedkit.newsletter.sending import SendReport
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from feedkit.tokens import Purpose, Tokens
from tests.conftest import import_rows, write_site
from tests.smtp_server import PASSWORD, USER, Faults, SmtpServer, authenticate

SECRET = "a-test-secret-that-is-long-enough"  # noqa: S105 - a test value
NOW = datetime.now(UTC)


def review(title: str, days_ago: float, **extra: str) -> str:
    date = (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    lines = "".join(f"{key}: {value}\n" for key, value in extra.items())
    head = f"---\ntitle: {title}\ndate: {date}\nsummary: The standfirst of {title}.\n{lines}---\n"
    return f"{head}Body of {title}.\n"


REVIEWS: dict[str, str | bytes] = {
    "vertigo.md": review("Vertigo Blu-ray", 1, rating="4.5", image="/images/vertigo.jpg"),
    "ran.md": review("Ran 4K UHD", 2, author="Sam Critic"),
    "old.md": review("An Old Review", 40),
}


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv("FEEDKIT_SMTP_PASSWORD", PASSWORD)


@pytest.fixture
def site_maker(tmp_path: Path) -> Callable[..., Config]:
    def make(extra_config: str = "", reviews: dict[str, str | bytes] | None = None) -> Config:
        config = (
            '[digest]\nfrom_address = "digest@reviews.example.org"\nfrom_name = "Test Reviews"\n'
            + extra_config
        )
        return load_config(write_site(tmp_path, reviews or REVIEWS, config))

    return make


def subscribe(config: Config, count: int) -> list[str]:
    addresses = [f"reader{number:03d}@example.org" for number in range(count)]
    import_rows(config, [[address] for address in addresses])
    return addresses


def smtp_config(server: SmtpServer, security: str = "none", extra: str = "") -> str:
    return (
        f'transport = "smtp"\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
        f'security = "{security}"\n{extra}'
    )


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def send_all(config: Config, context: ssl.SSLContext | None = None) -> list[SendReport]:
    return campaigns.send(config, lambda: open_transport(config, context))


# -- what arrives -------------------------------------------------------------------------------


def test_smtp_delivers_one_complete_message_per_subscriber(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """Every subscriber gets one multipart message with the headers bulk senders need."""
    config = site_maker(smtp_config(server))
    addresses = subscribe(config, 3)
    reports = send_all(config)
    assert [report.summary() for report in reports] == [
        "digest 1: 3 sent, 0 failed, 0 deferred, 0 unknown, 0 skipped (unsubscribed)"
    ]
    by_recipient = server.handler.by_recipient()
    assert sorted(by_recipient) == addresses
    message = by_recipient["reader001@example.org"][0].message
    assert message["From"] == "Test Reviews <digest@reviews.example.org>"
    assert message["To"] == "reader001@example.org"
    assert message["Reply-To"] == "digest@reviews.example.org"
    assert message["Subject"] == "Test Reviews: 2 new reviews, including Vertigo Blu-ray"
    assert re.fullmatch(
        r"<digest-1\.[0-9a-f]{8}\.[0-9a-f]{20}@reviews\.example\.org>", message["Message-ID"]
    )
    assert message["List-Id"] == "Test Reviews <digest.reviews.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Date"]
    https_link, mailto = re.fullmatch(
        r"<(https://[^>]+)>, <(mailto:[^>]+)>", message["List-Unsubscribe"]
    ).groups()  # type: ignore[union-attr]
    assert mailto == "mailto:digest@reviews.example.org?subject=unsubscribe"
    token = https_link.removeprefix("https://reviews.example.org/unsubscribe?t=")
    assert Tokens(SECRET.encode()).read(Purpose.UNSUBSCRIBE, token) == "reader001@example.org"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert "Vertigo Blu-ray" in body
        assert "Ran 4K UHD" in body
        assert "An Old Review" not in body  # older than the look-back
        assert "https://reviews.example.org/reviews/" in body
        assert "FEEDKIT-UNSUBSCRIBE" not in body
    assert f"Unsubscribe: {https_link}" in text
    assert f'href="{https_link}"' in html
    assert 'alt="Cover: Vertigo Blu-ray"' in html
    assert 'width="536"' in html
    assert "★★★★½" in html
    assert "View in your browser" in html


def test_each_recipient_has_its_own_stable_message_id(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """Message-IDs differ per recipient and are the same on a resend of the same digest."""
    config = site_maker(smtp_config(server))
    subscribe(config, 2)
    send_all(config)
    ids = {item.recipients[0]: item.message["Message-ID"] for item in server.handler.received}
    assert len(set(ids.values())) == 2
    with Store(config.database_path) as store:
        digest = mailstate.load_digest(store, 1)
    builder = DigestMessages(config, digest, Tokens(SECRET.encode()))
    assert {address: builder.build(address).message_id for address in ids} == ids


def test_starttls_with_auth(site_maker: Callable[..., Config], ca: trustme.CA) -> None:
    """STARTTLS then AUTH with the password from the environment; the server requires both."""
    running = SmtpServer(
        tls_context=server_context(ca),
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    ).start()
    try:
        config = site_maker(smtp_config(running, "starttls", f'username = "{USER}"\n'))
        subscribe(config, 2)
        send_all(config, client_context(ca))
        assert len(running.handler.received) == 2
    finally:
        running.stop()


def test_implicit_tls(site_maker: Callable[..., Config], ca: trustme.CA) -> None:
    """security = "tls" talks TLS from the first byte."""
    running = SmtpServer(ssl_context=server_context(ca)).start()
    try:
        config = site_maker(smtp_config(running, "tls"))
        subscribe(config, 1)
        send_all(config, client_context(ca))
        assert len(running.handler.received) == 1
    finally:
        running.stop()


def test_wrong_password_is_one_clear_error(
    site_maker: Callable[..., Config], ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login names the host, the user and the variable to check; nothing is marked
    sent."""
    running = SmtpServer(
        tls_context=server_context(ca), authenticator=authenticate, auth_required=True
    ).start()
    monkeypatch.setenv("FEEDKIT_SMTP_PASSWORD", "wrong")
    try:
        config = site_maker(smtp_config(running, "starttls", f'username = "{USER}"\n'))
        subscribe(config, 2)
        with pytest.raises(MailConfigError) as caught:
            send_all(config, client_context(ca))
        assert str(caught.value) == (
            f"127.0.0.1:{running.port}: the server refused the login for 'editor' (535); "
            "check [smtp] username and the password in $FEEDKIT_SMTP_PASSWORD"
        )
        assert history.pending_count(config) == 2
    finally:
        running.stop()


def test_file_transport_writes_one_eml_per_subscriber(site_maker: Callable[..., Config]) -> None:
    """The default transport leaves one .eml per subscriber in the outbox, named by Message-ID."""
    config = site_maker()
    subscribe(config, 3)
    campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    files = sorted(config.outbox_dir.glob("*.eml"))
    assert len(files) == 3
    assert all(
        re.fullmatch(r"digest-1\.[0-9a-f]{8}\.[0-9a-f]{20}\.eml", path.name) for path in files
    )
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in files[0].read_bytes()
    archive = (
        config.output_dir / "digests" / f"{datetime.now(config.zone).date().isoformat()}.html"
    )
    assert "Vertigo Blu-ray" in archive.read_text(encoding="utf-8")
    page = archive.read_text(encoding="utf-8")
    assert "?t=" not in page  # the public copy carries no personal token...
    assert 'href="None"' not in page  # ...and no broken link in its place
    assert "To unsubscribe, use the link at the foot of the e-mail you received" in page


def test_only_a_later_digest_speaks_of_the_last_issue(site_maker: Callable[..., Config]) -> None:
    """The first issue has no "last issue" to speak of; the one after it does."""
    config = site_maker()
    subscribe(config, 1)
    campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    (config.content_dir / "alien.md").write_text(review("Alien Blu-ray", 0), "utf-8")
    campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    first, second = (digest_html(config, issue) for issue in (1, 2))
    assert "2 new reviews." in first
    assert "since the last issue" not in first
    assert "1 new review since the last issue." in second


def digest_html(config: Config, issue: int) -> str:
    (path,) = config.outbox_dir.glob(f"digest-{issue}.*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    html = message.get_body(("html",))
    assert isinstance(html, EmailMessage)
    return " ".join(html.get_content().split())


# -- exactly once, despite faults -----------------------------------------------------------------


def assert_exactly_once(server: SmtpServer, addresses: list[str]) -> None:
    by_recipient = server.handler.by_recipient()
    assert sorted(by_recipient) == sorted(addresses)
    assert {address: len(copies) for address, copies in by_recipient.items()} == dict.fromkeys(
        addresses, 1
    )


def test_451_is_retried_and_delivered_once(site_maker: Callable[..., Config]) -> None:
    """Temporary refusals are retried with backoff; each recipient ends with one copy."""
    faults = Faults(temporary={"reader001@example.org": 1, "reader003@example.org": 2})
    running = SmtpServer(faults).start()
    try:
        config = site_maker(smtp_config(running))
        addresses = subscribe(config, 5)
        (report,) = send_all(config)
        assert report.counts["sent"] == 5
        assert_exactly_once(running, addresses)
    finally:
        running.stop()


def test_550_fails_only_that_recipient(site_maker: Callable[..., Config]) -> None:
    """A permanent refusal is recorded for that recipient, with the reason; the others get
    theirs."""
    running = SmtpServer(Faults(permanent={"reader002@example.org"})).start()
    try:
        config = site_maker(smtp_config(running))
        addresses = subscribe(config, 4)
        (report,) = send_all(config)
        assert (report.counts["sent"], report.counts["failed"]) == (3, 1)
        assert_exactly_once(
            running, [address for address in addresses if address != "reader002@example.org"]
        )
        (status,) = history.status(config)
        assert status.counts == {"sent": 3, "failed": 1}
        assert status.errors == (("reader002@example.org", "550 5.1.1 No such mailbox here"),)
    finally:
        running.stop()


def test_connection_dropped_before_the_message_is_reopened(
    site_maker: Callable[..., Config],
) -> None:
    """The server hangs up at RCPT after 3 messages; the sender reconnects and retries in the same
    run."""
    running = SmtpServer(Faults(drop_at_rcpt_after=3)).start()
    try:
        config = site_maker(smtp_config(running))
        addresses = subscribe(config, 8)
        (report,) = send_all(config)
        assert report.counts["sent"] == 8
        assert_exactly_once(running, addresses)
    finally:
        running.stop()


def test_connection_dropped_after_the_whole_message_is_unknown_then_resent_once(
    site_maker: Callable[..., Config],
) -> None:
    """A hang-up after the end of DATA leaves the outcome unknown: not retried in that run, then
    sent once more by the next one (the server here had not stored it), and nobody else is
    touched."""
    running = SmtpServer(Faults(drop_after=3)).start()
    try:
        config = site_maker(smtp_config(running))
        addresses = subscribe(config, 8)
        (report,) = send_all(config)
        assert (report.counts["sent"], report.counts["unknown"]) == (7, 1)
        assert history.pending_count(config) == 1
        (resumed,) = campaigns.send(config, lambda: open_transport(config), create=False)
        assert resumed.counts["sent"] == 1
        assert_exactly_once(running, addresses)
    finally:
        running.stop()


def test_unreachable_server_leaves_everything_pending_then_resume_sends(
    site_maker: Callable[..., Config],
) -> None:
    """No server: the run stops naming host and port; resume later sends each message once."""
    running = SmtpServer()
    config = site_maker(smtp_config(running, extra="max_attempts = 1\n"))
    addresses = subscribe(config, 3)
    (report,) = send_all(config)
    assert report.stopped is not None
    assert report.stopped.startswith(
        "3 timeouts or lost connections in a row, so the mail server is taken to be down "
        f"(last: cannot reach the mail server at 127.0.0.1:{running.port} ("
    )
    assert history.pending_count(config) == 3
    running.start()
    try:
        reports = campaigns.send(config, lambda: open_transport(config), create=False)
        assert [r.counts["sent"] for r in reports] == [3]
        assert_exactly_once(running, addresses)
    finally:
        running.stop()


def test_parallel_connections_and_rate_limit(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """Three connections share the recipients; each still gets exactly one copy."""
    config = site_maker(smtp_config(server, extra="connections = 3\nrate_limit = 200\n"))
    addresses = subscribe(config, 12)
    (report,) = send_all(config)
    assert report.counts["sent"] == 12
    assert_exactly_once(server, addresses)


def test_a_second_send_finds_nothing_new(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """Sending again right after sends nothing: the same reviews never go out twice."""
    config = site_maker(smtp_config(server))
    subscribe(config, 2)
    send_all(config)
    assert send_all(config) == []
    assert len(server.handler.received) == 2


# -- who gets it --------------------------------------------------------------------------------


def test_unsubscribed_address_is_never_mailed_nor_reimported(
    site_maker: Callable[..., Config],
) -> None:
    """Unsubscribing sticks: an import does not bring the address back, and no digest goes to
    it."""
    config = site_maker()
    subscribe(config, 2)
    assert subscriptions.remove_subscriber(config, "READER000@example.org") is True
    report = import_rows(config, [["reader000@example.org"], ["new@example.org"]])
    assert (
        report.summary()
        == "1 added, 0 already subscribed, 1 kept out (unsubscribed earlier), 0 invalid"
    )
    campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    recipients = sorted(
        line.split(": ")[1]
        for path in config.outbox_dir.glob("*.eml")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("To: ")
    )
    assert recipients == ["new@example.org", "reader001@example.org"]


def test_addresses_are_checked_and_deduplicated(site_maker: Callable[..., Config]) -> None:
    """Case-insensitive duplicates are one subscriber; malformed addresses are refused with a
    reason."""
    config = site_maker()
    assert subscriptions.add_subscriber(config, "Ann@Example.org", "Ann", confirmed=True) is True
    assert subscriptions.add_subscriber(config, "ann@example.ORG", confirmed=True) is False
    with pytest.raises(SubscriberError) as caught:
        subscriptions.add_subscriber(config, "ann@@example.org", confirmed=True)
    assert str(caught.value).startswith("'ann@@example.org' is not a valid e-mail address (")
    report = import_rows(config, [["x@example.org", "X"], ["not an address"], ["X@example.org"]])
    assert (
        report.summary()
        == "1 added, 1 already subscribed, 0 kept out (unsubscribed earlier), 1 invalid"
    )
    assert [s.address for s in subscriptions.list_subscribers(config)] == [
        "Ann@example.org",
        "x@example.org",
    ]


def test_someone_unsubscribing_during_a_send_is_skipped(site_maker: Callable[..., Config]) -> None:
    """An address that leaves after the digest was frozen is skipped, not mailed."""
    config = site_maker()
    subscribe(config, 3)
    with Store(config.database_path) as store:
        campaigns.create_run(config, store)
    subscriptions.remove_subscriber(config, "reader001@example.org")
    (report,) = campaigns.send(config, lambda: FileTransport(config.outbox_dir), create=False)
    assert (report.counts["sent"], report.counts["skipped"]) == (2, 1)


# -- what goes in -------------------------------------------------------------------------------


def test_late_public_and_overflowing_reviews_go_in_the_next_digest(
    site_maker: Callable[..., Config],
) -> None:
    """A draft published later, and reviews beyond max_items, each go into the next digest,
    once."""
    reviews = {**REVIEWS, "draft.md": review("Was A Draft", 20, draft="true")}
    config = site_maker("max_items = 1\n", reviews)
    subscribe(config, 1)

    def send_titles() -> list[str]:
        before = set(config.outbox_dir.glob("*.eml")) if config.outbox_dir.exists() else set()
        campaigns.send(config, lambda: FileTransport(config.outbox_dir))
        new = set(config.outbox_dir.glob("*.eml")) - before
        subjects = (re.search(r"including (.+)", p.read_text(encoding="utf-8")) for p in new)
        return [subject[1] for subject in subjects if subject]

    assert send_titles() == ["Vertigo Blu-ray"]
    path = config.content_dir / "draft.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("draft: true\n", ""), encoding="utf-8"
    )
    assert send_titles() == ["Ran 4K UHD"]  # held back by max_items, not lost
    assert send_titles() == [
        "Was A Draft"
    ]  # 20 days old, but public only since it stopped being a draft
    assert send_titles() == []


def test_preview_writes_html_and_text(site_maker: Callable[..., Config]) -> None:
    """The preview is the digest as it would go out now, with a sample unsubscribe link and
    the link to its copy on the site."""
    config = site_maker()
    written = campaigns.preview(config)
    assert written.reviews == 2
    html = written.html_path.read_text(encoding="utf-8")
    assert "Vertigo Blu-ray" in html
    assert "View in your browser" in html
    link = unsubscribe_link(config, Tokens(SECRET.encode()), campaigns.PREVIEW_RECIPIENT)
    assert link in written.text_path.read_text(encoding="utf-8")
    assert history.status(config) == []  # a preview records no digest


def test_test_send_goes_to_one_address_and_is_not_recorded(
    site_maker: Callable[..., Config], server: SmtpServer
) -> None:
    """--test sends the would-be digest to one address, with a Message-ID of its own each time,
    and records nothing."""
    config = site_maker(smtp_config(server))
    subscribe(config, 3)
    sent = campaigns.send_test(config, "editor@example.org", open_transport(config))
    assert [item.recipients for item in server.handler.received] == [["editor@example.org"]]
    assert sent.message_id.startswith("<test-")
    assert sent.saved_to is None
    again = campaigns.send_test(config, "editor@example.org", open_transport(config))
    assert again.message_id != sent.message_id
    assert history.status(config) == []
    assert campaigns.plan_send(config).reviews == 2


# -- one sender at a time ------------------------------------------------------------------------


def test_second_sender_is_refused_while_the_lock_is_held(
    site_maker: Callable[..., Config],
) -> None:
    """While one process sends, another is refused with who holds the lock and since when."""
    config = site_maker()
    subscribe(config, 1)
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute(
            "INSERT INTO locks VALUES ('digest', 'other-host', 4242, '2026-11-24T08:00:00+00:00', "
            "?, 'x')",
            (datetime.now(UTC).isoformat(),),
        )
    with pytest.raises(LockedError) as caught:
        campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    assert str(caught.value) == (
        "another digest send is running (process 4242 on other-host, since 2026-11-24 08:00:00 "
        "UTC); "
        "wait for it to finish; `feedkit digest status` shows its progress"
    )


def test_lock_left_by_a_dead_process_is_taken_over(site_maker: Callable[..., Config]) -> None:
    """A lock whose holder on this host no longer exists does not block the next send."""
    config = site_maker()
    subscribe(config, 1)
    with Store(config.database_path) as store, store.transaction() as db:
        now = datetime.now(UTC).isoformat()
        db.execute(
            "INSERT INTO locks VALUES ('digest', ?, 999999999, ?, ?, 'x')",
            (socket.gethostname(), now, now),
        )
    (report,) = campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    assert report.counts["sent"] == 1


@pytest.mark.parametrize("holder", ["same-pid", "stale-heartbeat"])
def test_lock_of_an_earlier_incarnation_or_silent_holder_is_taken_over(
    site_maker: Callable[..., Config], holder: str
) -> None:
    """A row with this process's PID but not its token (a restarted container), or one whose
    heartbeat
    stopped minutes ago (a killed process on another host), does not block sending."""
    config = site_maker()
    subscribe(config, 1)
    fresh = datetime.now(UTC)
    host, pid, beat = {
        "same-pid": (socket.gethostname(), os.getpid(), fresh),
        "stale-heartbeat": ("other-host", 4242, fresh - timedelta(minutes=5)),
    }[holder]
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute(
            "INSERT INTO locks VALUES ('digest', ?, ?, ?, ?, 'old-token')",
            (host, pid, beat.isoformat(), beat.isoformat()),
        )
    (report,) = campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    assert report.counts["sent"] == 1


def test_full_disk_stops_the_send_and_keeps_the_rest_pending(
    site_maker: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the outbox cannot be written, the send stops with the error and nothing is marked
    sent."""
    config = site_maker("archive = false\n")  # the disk fills while the messages are written
    subscribe(config, 6)

    def no_space(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)  # the disk fills up (simulated: it cannot here)
    with pytest.raises(OutputError) as caught:
        campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    assert "No space left on device" in str(caught.value)
    monkeypatch.undo()
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    assert history.pending_count(config) == 6
    (report,) = campaigns.send(config, lambda: FileTransport(config.outbox_dir), create=False)
    assert report.counts["sent"] == 6
    assert len(list(config.outbox_dir.glob("*.eml"))) == 6


def test_an_archive_page_that_cannot_be_written_freezes_no_digest(
    site_maker: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser copy is written before the digest is frozen: when it cannot be, the send stops
    with the error and no digest exists whose mail would link to a missing page."""
    config = site_maker()
    subscribe(config, 2)

    def read_only(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "fsync", read_only)  # simulated: tests run as root
    with pytest.raises(OutputError):
        campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    monkeypatch.undo()
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    assert history.status(config) == []
    assert not config.outbox_dir.exists()
    (report,) = campaigns.send(config, lambda: FileTransport(config.outbox_dir))
    assert report.counts["sent"] == 2
