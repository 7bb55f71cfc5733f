"""A recipient the SMTP server refuses outright (a 5xx to RCPT) is a bounce like one that comes
back as mail: hard when the reply condemns the address, soft otherwise, under the same rules, and
counted in `digest status`. Sent through the real aiosmtpd server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.mail.transports import open_transport
from feedkit.newsletter import bounces, campaigns, history, subscriptions
from feedkit.store.db import Store
from tests.conftest import import_rows, write_site, yesterdays_review
from tests.smtp_server import Faults, SmtpServer

pytestmark = pytest.mark.usefixtures("feedkit_secret")
READERS = ["ann@example.org", "bob@example.org", "gone@example.org"]
UNKNOWN = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
BLOCKED = "550 5.7.1 Message rejected as spam by content filter"


@pytest.fixture
def refusing() -> Iterator[Callable[[str], SmtpServer]]:
    started: list[SmtpServer] = []

    def start(reply: str) -> SmtpServer:
        server = SmtpServer(Faults(refusals={"gone@example.org": reply})).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def site(root: Path, server: SmtpServer) -> Config:
    settings = (
        '[digest]\nfrom_address = "digest@reviews.example.org"\ntransport = "smtp"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
    )
    config = load_config(write_site(root, {"a.md": yesterdays_review("Alphaville")}, settings))
    import_rows(config, [[address] for address in READERS])
    return config


def send(config: Config) -> None:
    campaigns.send(config, lambda: open_transport(config))


def new_review(config: Config, title: str) -> None:
    path = config.content_dir / f"{title.lower()}.md"
    path.write_text(yesterdays_review(title), encoding="utf-8")


def statuses(config: Config) -> dict[str, str]:
    return {sub.address: sub.status for sub in subscriptions.list_subscribers(config)}


def events(config: Config) -> list[tuple[str, str, str, str | None]]:
    with Store(config.database_path) as store:
        rows = store.query_all(
            "SELECT email_key, kind, found_by, status FROM bounce_events ORDER BY id"
        )
    return [(str(key), str(kind), str(found), status) for key, kind, found, status in rows]


def test_a_recipient_refused_as_unknown_is_suppressed_at_once(
    tmp_path: Path, refusing: Callable[[str], SmtpServer]
) -> None:
    """550 5.1.1 at RCPT: a hard bounce traced by the delivery itself, the address is bounced,
    `digest status` counts it, and the next digest does not go to it."""
    server = refusing(UNKNOWN)
    config = site(tmp_path, server)
    send(config)
    assert events(config) == [("gone@example.org", "hard_bounce", "smtp-reply", "5.1.1")]
    assert statuses(config)["gone@example.org"] == "bounced"
    assert {statuses(config)[reader] for reader in READERS[:2]} == {"active"}
    (status,) = history.status(config)
    assert (status.hard_bounces, status.counts["failed"]) == (1, 1)
    new_review(config, "Brazil")
    send(config)
    recipients = [rcpt for item in server.handler.received for rcpt in item.recipients]
    assert "gone@example.org" not in recipients
    assert sorted(recipients) == sorted(READERS[:2] * 2)


def test_a_policy_refusal_is_soft_and_suppresses_only_when_repeated(
    tmp_path: Path, refusing: Callable[[str], SmtpServer]
) -> None:
    """550 5.7.1 (a block, not the address) is a soft bounce: the reader stays until three
    digests in the window were refused, then is bounced."""
    config = site(tmp_path, refusing(BLOCKED))
    send(config)
    assert statuses(config)["gone@example.org"] == "active"
    for title in ("Brazil", "Chinatown"):
        new_review(config, title)
        send(config)
    kinds = [kind for key, kind, _, _ in events(config) if key == "gone@example.org"]
    assert kinds == ["soft_bounce"] * 3
    assert statuses(config)["gone@example.org"] == "bounced"


def test_a_refusal_counts_once_for_its_delivery(
    tmp_path: Path, refusing: Callable[[str], SmtpServer]
) -> None:
    """Recording the same delivery's refusal again adds nothing."""
    config = site(tmp_path, refusing(BLOCKED))
    send(config)
    again = datetime.now(UTC).replace(microsecond=0)
    with Store(config.database_path) as store:
        bounces.record_refusals(config, store, 1, [("gone@example.org", BLOCKED)], again)
    assert len(events(config)) == 1
