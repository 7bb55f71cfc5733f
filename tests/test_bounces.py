"""Returned mail suppresses the right subscriber and nobody else: traced by token, then Message-ID,
then address; the rules over time, with the clock passed in; lifting a suppression."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.errors import SubscriberError
from feedkit.mail.mailboxes import OneMessage
from feedkit.newsletter import bounces, history, subscriptions
from feedkit.newsletter.bounces import IngestReport
from feedkit.newsletter.messages import DigestMessages
from feedkit.store import bounces as bounce_records
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from tests import state_setup
from tests.conftest import import_rows, write_site
from tests.returned_mail import complaint, dsn, vacation
from tests.state_setup import add_readers

SECRET = "bounce-test-secret-long-enough"  # noqa: S105 - a test value
START = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
SETTINGS = """\
[digest]
from_address = "digest@reviews.example.org"
bounce_address = "bounces+{token}@reviews.example.org"
"""
READERS = ["ann@example.org", "bob@example.org", "cat@example.org"]
ConfigMaker = Callable[..., Config]


@pytest.fixture
def make_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConfigMaker:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)

    def make(extra: str = "") -> Config:
        config = load_config(write_site(tmp_path, {}, SETTINGS + extra))
        add_readers(config, READERS)
        return config

    return make


@pytest.fixture
def config(make_config: ConfigMaker) -> Config:
    return make_config()


def freeze(config: Config, created: datetime) -> DigestMessages:
    """A digest as a send freezes it (one delivery per active subscriber), and its messages."""
    return state_setup.freeze(config, created, SECRET)


def ingest(config: Config, data: bytes, now: datetime) -> IngestReport:
    return bounces.ingest(config, OneMessage(data), now)


def statuses(config: Config) -> dict[str, str]:
    return {sub.address: sub.status for sub in subscriptions.list_subscribers(config)}


def events(config: Config) -> list[tuple[str, int | None, str, str]]:
    with Store(config.database_path) as store:
        rows = store.query_all(
            "SELECT email_key, digest_id, kind, found_by FROM bounce_events ORDER BY id"
        )
    return [(str(key), digest, str(kind), str(by)) for key, digest, kind, by in rows]


def soft_bounce(messages: DigestMessages, address: str, date: datetime) -> bytes:
    return dsn(to=messages.envelope_sender(address), recipient=address, status="4.2.2", date=date)


# -- tracing ------------------------------------------------------------------------------------


def test_a_bounce_days_later_suppresses_the_subscriber_its_token_names(config: Config) -> None:
    """A hard bounce to Ann's bounce address, naming the address her mail was forwarded to,
    marks Ann bounced and nobody else."""
    messages = freeze(config, START)
    later = START + timedelta(days=4)
    bounce = dsn(to=messages.envelope_sender("ann@example.org"), recipient="ann@forward.example")
    report = ingest(config, bounce, later)
    assert [(s.address, s.status, s.before) for s in report.suppressed] == [
        ("ann@example.org", "bounced", "active")
    ]
    assert statuses(config) == {
        "ann@example.org": "bounced",
        "bob@example.org": "active",
        "cat@example.org": "active",
    }
    assert events(config) == [("ann@example.org", 1, "hard_bounce", "token")]


def test_the_message_id_traces_a_bounce_without_a_token(config: Config) -> None:
    """A bounce sent to the plain From address is traced by the signed Message-ID of Bob's copy,
    even when it names another address."""
    messages = freeze(config, START)
    message_id = messages.build("bob@example.org").message_id
    bounce = dsn(
        to="digest@reviews.example.org", recipient="rob@other.example", message_id=message_id
    )
    ingest(config, bounce, START + timedelta(days=1))
    assert events(config) == [("bob@example.org", 1, "hard_bounce", "message-id")]
    assert statuses(config)["bob@example.org"] == "bounced"


def test_the_address_alone_traces_a_report_as_a_last_resort(config: Config) -> None:
    """A bounce with no token and a Message-ID of another site's is traced by the address it
    names, to no digest."""
    freeze(config, START)
    ingest(config, dsn(to="digest@reviews.example.org", recipient="Cat@Example.org"), START)
    assert events(config) == [("cat@example.org", None, "hard_bounce", "address")]


def test_a_forged_token_or_message_id_traces_to_nobody(config: Config) -> None:
    """A token whose signature is wrong, or a Message-ID in the site's form with a wrong
    signature, is not believed: the report names nobody on the list and is kept aside."""
    messages = freeze(config, START)
    genuine = messages.envelope_sender("ann@example.org")
    local, _, domain = genuine.partition("@")
    forged = f"{local[:-1]}{'b' if local.endswith('a') else 'a'}@{domain}"  # one letter changed
    nonce = messages.digest.nonce
    fake_id = f"<digest-1.{nonce}.0123456789abcdef0123@reviews.example.org>"
    report = ingest(config, dsn(to=forged, recipient="x@else.example", message_id=fake_id), START)
    assert (report.suppressed, len(report.kept), events(config)) == ([], 1, [])
    assert set(statuses(config).values()) == {"active"}


def test_a_complaint_is_traced_by_the_token_in_the_reported_copy(config: Config) -> None:
    """A feedback-loop report goes to the feedback address; the token rides in the reported
    copy's Return-Path, and Cat is marked complained at once."""
    messages = freeze(config, START)
    sender = messages.envelope_sender("cat@example.org")
    report = ingest(config, complaint(envelope_sender=sender, recipient="cat@example.org"), START)
    assert (report.complaints, [s.address for s in report.suppressed]) == (1, ["cat@example.org"])
    assert events(config) == [("cat@example.org", 1, "complaint", "token")]
    assert statuses(config)["cat@example.org"] == "complained"


def test_auto_replies_and_delay_notices_change_nothing(config: Config) -> None:
    """An out-of-office reply is ignored: no event, nobody suppressed, nothing kept aside."""
    report = ingest(
        config, vacation(to="digest@reviews.example.org", sender="ann@example.org"), START
    )
    assert (report.ignored, report.kept, events(config)) == (1, [], [])
    assert set(statuses(config).values()) == {"active"}


def test_a_message_not_understood_is_kept_aside_as_it_came(config: Config) -> None:
    """A message that is no report is written to the kept folder byte for byte and listed with
    why; nobody is suppressed."""
    data = b"From: someone@example.net\nSubject: hello\n\nIs this the film club?\n"
    report = ingest(config, data, START)
    [(name, why)] = report.kept
    assert (config.kept_bounces_dir / name).read_bytes() == data
    assert why == "no delivery report, feedback report, bounce or auto-reply"
    [(kept, path)] = list(history.kept_messages(config))
    assert (kept.reason, path) == (why, config.kept_bounces_dir / name)


def test_a_message_read_twice_counts_once(config: Config) -> None:
    """The same message read again (a re-run over a maildir) is recognised and counts nothing."""
    messages = freeze(config, START)
    bounce = soft_bounce(messages, "ann@example.org", START)
    first, second = ingest(config, bounce, START), ingest(config, bounce, START)
    assert (first.bounces, second.bounces, second.already) == (1, 0, 1)
    assert len(events(config)) == 1


# -- the rules over time ------------------------------------------------------------------------


def test_three_soft_bounces_within_the_window_suppress(config: Config) -> None:
    """Soft bounces from three digests within 30 days mark the address bounced on the third."""
    seen = []
    for day in (0, 10, 20):
        moment = START + timedelta(days=day)
        messages = freeze(config, moment)
        ingest(config, soft_bounce(messages, "ann@example.org", moment), moment)
        seen.append(statuses(config)["ann@example.org"])
    assert seen == ["active", "active", "bounced"]


def test_soft_bounces_older_than_the_window_do_not_count(config: Config) -> None:
    """Three soft bounces spread over more than 30 days leave the address active."""
    for day in (0, 10, 31):
        moment = START + timedelta(days=day)
        messages = freeze(config, moment)
        ingest(config, soft_bounce(messages, "ann@example.org", moment), moment)
    assert statuses(config)["ann@example.org"] == "active"


def test_a_soft_bounce_counts_from_when_the_report_was_written(config: Config) -> None:
    """Reports read long after they were written (a backlog) count from their own dates: three
    from months apart do not suppress, even read on one day."""
    later = START + timedelta(days=200)
    for day in (0, 60, 120):
        moment = START + timedelta(days=day)
        ingest(config, soft_bounce(freeze(config, moment), "ann@example.org", moment), later)
    assert statuses(config)["ann@example.org"] == "active"


def test_reports_about_one_digest_count_as_one_soft_bounce(config: Config) -> None:
    """Two soft bounces of one digest and one of another are two digests: not yet three."""
    first, second = freeze(config, START), freeze(config, START + timedelta(days=1))
    now = START + timedelta(days=2)
    for messages, hour in ((first, 1), (first, 2), (second, 3)):
        ingest(
            config, soft_bounce(messages, "ann@example.org", START + timedelta(hours=hour)), now
        )
    assert len(events(config)) == 3
    assert statuses(config)["ann@example.org"] == "active"


def test_hard_bounces_suppress_after_the_configured_number(make_config: ConfigMaker) -> None:
    """With hard_bounces = 2, the first hard bounce leaves the address active, the second from
    another digest suppresses it."""
    config = make_config("[bounces]\nhard_bounces = 2\n")
    seen = []
    for day in (0, 7):
        moment = START + timedelta(days=day)
        messages = freeze(config, moment)
        ingest(
            config,
            dsn(
                to=messages.envelope_sender("bob@example.org"),
                recipient="bob@example.org",
                date=moment,
            ),
            moment,
        )
        seen.append(statuses(config)["bob@example.org"])
    assert seen == ["active", "bounced"]


def test_a_suppressed_subscriber_is_neither_mailed_nor_imported_again(config: Config) -> None:
    """After a hard bounce, the next digest has no delivery for the address, and an import of it
    keeps it out."""
    messages = freeze(config, START)
    ingest(
        config,
        dsn(to=messages.envelope_sender("ann@example.org"), recipient="ann@example.org"),
        START,
    )
    freeze(config, START + timedelta(days=7))
    with Store(config.database_path) as store:
        assert bounce_records.digest_recipients(store, 2) == ["bob@example.org", "cat@example.org"]
    imported = import_rows(config, [["ann@example.org"]])
    assert (imported.added, imported.unsubscribed) == (0, 1)


# -- lifting a suppression ----------------------------------------------------------------------


def test_lifting_a_suppression_restores_the_status_and_forgets_the_count(config: Config) -> None:
    """An editor's lift makes a bounced address active again; its old soft bounces no longer
    count, so one more does not suppress it at once."""
    for day in (0, 1, 2):
        moment = START + timedelta(days=day)
        ingest(config, soft_bounce(freeze(config, moment), "ann@example.org", moment), moment)
    lifted = bounces.unsuppress(config, "ANN@example.org")
    assert (lifted.address, lifted.was, lifted.now) == ("ann@example.org", "bounced", "active")
    assert lifted.events == {"soft_bounce": 3}
    moment = START + timedelta(days=3)
    ingest(config, soft_bounce(freeze(config, moment), "ann@example.org", moment), moment)
    assert statuses(config)["ann@example.org"] == "active"


def test_lifting_gives_back_a_pending_status(config: Config) -> None:
    """A subscriber who had not confirmed yet goes back to pending, not straight to active."""
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute("UPDATE subscribers SET status = 'pending' WHERE email_key = 'cat@example.org'")
    ingest(config, dsn(to="digest@reviews.example.org", recipient="cat@example.org"), START)
    assert statuses(config)["cat@example.org"] == "bounced"
    assert bounces.unsuppress(config, "cat@example.org").now == "pending"


def test_only_a_bounce_or_complaint_can_be_lifted(config: Config) -> None:
    """An active address, a reader's own unsubscribe and an unknown address are refused, each
    with one line saying why."""
    subscriptions.remove_subscriber(config, "bob@example.org")
    refusals = {}
    for address in ("ann@example.org", "bob@example.org", "dan@example.org"):
        with pytest.raises(SubscriberError) as caught:
            bounces.unsuppress(config, address)
        refusals[address] = str(caught.value)
    assert refusals == {
        "ann@example.org": (
            "ann@example.org is active, not suppressed by a bounce; nothing to lift"
        ),
        "bob@example.org": (
            "bob@example.org is unsubscribed, not suppressed by a bounce; only they can subscribe "
            "again"
        ),
        "dan@example.org": "dan@example.org is not on the list; check the address",
    }


# -- what the status shows ----------------------------------------------------------------------


def test_status_counts_bounces_and_complaints_per_digest(config: Config) -> None:
    """Each digest's status counts its hard and soft bounces and complaints, and the complaint
    rate against the 0.3 % line."""
    messages = freeze(config, START)
    with Store(config.database_path) as store:
        for reader in READERS:
            mailstate.mark_delivery(store, 1, reader, "sent")
    ingest(
        config,
        dsn(to=messages.envelope_sender("ann@example.org"), recipient="ann@example.org"),
        START,
    )
    ingest(config, soft_bounce(messages, "bob@example.org", START), START)
    sender = messages.envelope_sender("cat@example.org")
    ingest(config, complaint(envelope_sender=sender, recipient="cat@example.org"), START)
    [status] = history.status(config)
    assert (status.hard_bounces, status.soft_bounces, status.complaints) == (1, 1, 1)
    assert (status.complaint_rate, status.above_complaint_line) == (1 / 3, True)
