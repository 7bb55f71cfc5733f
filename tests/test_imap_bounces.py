"""`feedkit bounces ingest --imap` against a real IMAP server (Dovecot on loopback, over verified
TLS): unread messages are read, recorded, then flagged or moved; a refused login, an untrusted
certificate and missing settings are one line each."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner, Result

from feedkit.cli.main import main
from feedkit.config import load_config
from tests.conftest import write_site
from tests.imap_server import PASSWORD, USER, ImapServer, UnavailableError
from tests.returned_mail import dsn, vacation
from tests.state_setup import add_readers
from tests.test_newsletter import REVIEWS

READERS = ["ann@example.org", "bob@example.org"]
NOT_A_REPORT = b"From: someone@example.net\r\nSubject: hello\r\n\r\nIs this the film club?\r\n"
MESSAGES = [
    dsn(to="bounces@reviews.example.org", recipient="ann@example.org").replace(b"\n", b"\r\n"),
    vacation(to="bounces@reviews.example.org", sender="bob@example.org").replace(b"\n", b"\r\n"),
    NOT_A_REPORT,
]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


# Dovecot's own list of what it can do after login, less MOVE: a server from before RFC 6851.
WITHOUT_MOVE = """\
protocol imap {
  imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UIDPLUS
}
"""


@pytest.fixture
def server(ca: trustme.CA, request: pytest.FixtureRequest) -> Iterator[ImapServer]:
    running = ImapServer(ca, getattr(request, "param", ""))
    try:
        running.start()
    except UnavailableError as reason:
        pytest.skip(f"no IMAP server to test against: {reason}")
    yield running
    running.stop()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test CA is the one the default TLS context trusts (OpenSSL reads SSL_CERT_FILE)."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))


def make_site(root: Path, server: ImapServer, extra: str = "", security: str = "tls") -> Path:
    port = server.tls_port if security == "tls" else server.plain_port
    settings = (
        '[digest]\nfrom_address = "digest@reviews.example.org"\n'
        f'[bounces]\nimap_host = "127.0.0.1"\nimap_port = {port}\nimap_user = "{USER}"\n'
        f'imap_security = "{security}"\n{extra}'
    )
    add_readers(load_config(write_site(root, REVIEWS, settings)), READERS)
    return root


def run(root: Path, *args: str) -> Result:
    previous = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), prog_name="feedkit")
    finally:
        os.chdir(previous)


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDKIT_SECRET", "imap-bounces-secret-long-enough")
    monkeypatch.setenv("FEEDKIT_IMAP_PASSWORD", PASSWORD)


def deliver(server: ImapServer, folder: str = "INBOX") -> None:
    client = server.client()
    for data in MESSAGES:
        client.append(folder, "", None, data)
    client.logout()


def flags(server: ImapServer, folder: str) -> list[str]:
    """Each message's flags in a folder, in order; UID FETCH of an empty folder finds none."""
    client = server.client()
    client.select(folder)
    _, found = client.uid("FETCH", "1:*", "(FLAGS)")
    client.logout()
    return [line.decode() for line in found if isinstance(line, bytes)]


SUMMARY = (
    "Read 3 messages: 1 bounce, 0 complaints, 1 ignored (auto-replies, delay notices), "
    "1 kept aside, 0 read before."
)


@pytest.mark.usefixtures("trusted")
def test_unread_messages_are_read_over_tls_and_flagged(server: ImapServer, tmp_path: Path) -> None:
    """Three unread messages are read and recorded, then flagged read; a second run finds
    nothing new, and Ann's hard bounce has suppressed her."""
    site = make_site(tmp_path, server)
    deliver(server)
    first = run(site, "bounces", "ingest", "--imap")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[:2] == [
        SUMMARY,
        "  ann@example.org: now bounced (was active)",
    ]
    assert (
        all("\\Seen" in line for line in flags(server, "INBOX"))
        and len(flags(server, "INBOX")) == 3
    )
    again = run(site, "bounces", "ingest", "--imap")
    assert again.stdout.startswith("Read 0 messages: ")
    assert run(site, "subscribers", "list").stdout.startswith("ann@example.org\tbounced\t")


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize(
    "server", ["", WITHOUT_MOVE], ids=["move", "copy-and-expunge"], indirect=True
)
def test_read_messages_are_moved_where_asked(server: ImapServer, tmp_path: Path) -> None:
    """With imap_move_to, each message read leaves the inbox for that folder (made if missing),
    by MOVE, or by copying and expunging where the server has no MOVE."""
    site = make_site(tmp_path, server, 'imap_move_to = "Bounces read"\n')
    deliver(server)
    result = run(site, "bounces", "ingest", "--imap")
    assert result.stdout.splitlines()[0] == SUMMARY
    assert (flags(server, "INBOX"), len(flags(server, '"Bounces read"'))) == ([], 3)


@pytest.mark.usefixtures("trusted")
def test_starttls_on_the_plain_port(server: ImapServer, tmp_path: Path) -> None:
    """imap_security = "starttls" upgrades the plain port's connection before logging in."""
    site = make_site(tmp_path, server, security="starttls")
    deliver(server)
    assert run(site, "bounces", "ingest", "--imap").stdout.splitlines()[0] == SUMMARY


@pytest.mark.usefixtures("trusted")
def test_a_refused_login_is_one_line(
    server: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong password gives one error line naming the server, the user and where the password
    comes from, exit 2; nothing is read."""
    site = make_site(tmp_path, server)
    deliver(server)
    monkeypatch.setenv("FEEDKIT_IMAP_PASSWORD", "not-the-password")
    result = run(site, "bounces", "ingest", "--imap")
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: 127.0.0.1:{server.tls_port}: the server refused the login for 'bounces' "
        "([AUTHENTICATIONFAILED] Authentication failed.); check [bounces] imap_user and the "
        "password in $FEEDKIT_IMAP_PASSWORD\n",
    )
    assert not any("\\Seen" in line for line in flags(server, "INBOX"))


def test_a_certificate_nobody_vouches_for_is_refused(server: ImapServer, tmp_path: Path) -> None:
    """A server whose certificate this machine does not trust is refused before the password is
    sent: one line, exit 2."""
    site = make_site(tmp_path, server)
    result = run(site, "bounces", "ingest", "--imap")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: 127.0.0.1:{server.tls_port}: no secure IMAP connection ([SSL: "
        "CERTIFICATE_VERIFY_FAILED]"
    )
    assert result.stderr.endswith(
        "; check [bounces] imap_security, imap_port and the server's certificate\n"
    )


def test_imap_needs_its_settings_and_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--imap without imap_host, or without the password in the environment, is one line each,
    exit 2, before any connection."""
    write_site(tmp_path, REVIEWS, "")
    unset = run(tmp_path, "bounces", "ingest", "--imap")
    assert (unset.exit_code, unset.stderr) == (
        2,
        "error: --imap needs [bounces] imap_host and imap_user in config.toml; name the mailbox "
        "the bounce address delivers to\n",
    )
    write_site(tmp_path, REVIEWS, '[bounces]\nimap_host = "127.0.0.1"\nimap_user = "b"\n')
    monkeypatch.delenv("FEEDKIT_IMAP_PASSWORD")
    no_password = run(tmp_path, "bounces", "ingest", "--imap")
    assert (no_password.exit_code, no_password.stderr) == (
        2,
        "error: [bounces] imap_user is set but $FEEDKIT_IMAP_PASSWORD is empty; export "
        "FEEDKIT_IMAP_PASSWORD=... before reading the mailbox\n",
    )
