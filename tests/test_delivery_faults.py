"""Faults that once lost a digest or mailed copies: long headers, condemned messages, silent
servers,
lost state and concurrent commands, each against a real SMTP server (aiosmtpd) or real
processes."""

from __future__ import annotations

import email
import email.policy
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.errors import StateError
from feedkit.newsletter import history
from feedkit.newsletter.messages import DigestMessages
from feedkit.newsletter.model import DigestContent, FrozenDigest
from feedkit.store import newsletter as mailstate
from feedkit.store.db import Store
from feedkit.tokens import Tokens
from tests.conftest import SECRET, import_rows, write_site
from tests.smtp_server import Faults, SmtpServer, free_port

pytestmark = pytest.mark.usefixtures("feedkit_secret")
ENV = {**os.environ, "FEEDKIT_SECRET": SECRET}


def review(title: str, days_ago: float = 1) -> str:
    date = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"---\ntitle: '{title}'\ndate: {date}\nsummary: A standfirst.\n---\nBody.\n"


def smtp_settings(server: SmtpServer, extra: str = "") -> str:
    return smtp_settings_on(server.port, extra)


def smtp_settings_on(port: int, extra: str = "") -> str:
    return (
        '[digest]\nfrom_address = "digest@reviews.example.org"\ntransport = "smtp"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n{extra}'
    )


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedkit.cli", *args]
    return subprocess.run(
        command, cwd=root, env=ENV, capture_output=True, text=True, timeout=120, check=False
    )


def make_site(
    root: Path, server: SmtpServer, reviews: dict[str, str | bytes], extra: str = ""
) -> Config:
    return load_config(write_site(root, reviews, smtp_settings(server, extra)))


def subscribe(config: Config, count: int) -> list[str]:
    addresses = [f"reader{number:02d}@example.org" for number in range(count)]
    import_rows(config, [[address] for address in addresses])
    return addresses


def copies_per_recipient(server: SmtpServer) -> dict[str, int]:
    return {address: len(items) for address, items in server.handler.by_recipient().items()}


# -- 1. long headers, and replies that condemn the message
# -----------------------------------------


@pytest.mark.parametrize("title", ["A" * 2000, "Amélie ★ " * 38, "é" * 300])
def test_a_very_long_title_is_folded_and_delivered(
    tmp_path: Path, server_with: Callable[..., SmtpServer], title: str
) -> None:
    """A 2,000-character title (or 300 non-ASCII characters) makes a Subject folded within RFC
    5322's
    line limit, in encoded words of at most 75 characters; the server accepts every message and the
    subject decodes back whole."""
    server = server_with()
    config = make_site(tmp_path, server, {"long.md": review(title)})
    subscribe(config, 2)
    sent = run_cli(tmp_path, "digest", "send", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert copies_per_recipient(server) == {"reader00@example.org": 1, "reader01@example.org": 1}
    raw = server.handler.received[0].data
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert max(len(line) for line in head.split("\r\n")) <= 998
    subject_lines = re.search(r"^Subject:.*?(?=\r\n\S)", head, re.MULTILINE | re.DOTALL)
    assert subject_lines
    assert max(len(line) for line in subject_lines[0].split("\r\n")) <= 78
    assert all(len(word) <= 75 for word in re.findall(r"=\?[^?]+\?[bqBQ]\?[^?]*\?=", head))
    subject = server.handler.received[0].message["Subject"]
    assert subject == f"Test Reviews: 1 new review, including {' '.join(title.split())}"


def test_the_server_limit_on_line_length_is_what_the_fold_avoids(
    server_with: Callable[..., SmtpServer],
) -> None:
    """The same server refuses a header line over 998 characters with '500 Line too long': the
    long-title test above would fail without folding (this pins the server's behaviour)."""
    import smtplib  # noqa: PLC0415 - only this test speaks SMTP by hand

    server = server_with()
    with smtplib.SMTP("127.0.0.1", server.port) as connection:
        message = b"Subject: " + b"A" * 2000 + b"\r\n\r\nBody\r\n"
        with pytest.raises(smtplib.SMTPDataError) as caught:
            connection.sendmail("a@example.org", ["b@example.org"], message)
    assert caught.value.smtp_code == 500


@pytest.mark.parametrize(
    ("faults", "server_options", "reply"),
    [
        (Faults(data_reply="554 5.6.0 Message content rejected"), {}, "554 5.6.0"),
        (Faults(sender_reply="550 5.7.1 Sender not allowed"), {}, "550 5.7.1"),
        (None, {"data_size_limit": 2000}, "552 "),
    ],
    ids=["5xx-to-data", "5xx-to-mail-from", "552-message-size"],
)
def test_a_reply_that_condemns_the_message_stops_the_run_and_keeps_everyone_pending(
    tmp_path: Path,
    server_with: Callable[..., SmtpServer],
    faults: Faults | None,
    server_options: dict[str, object],
    reply: str,
) -> None:
    """A 5xx to DATA or MAIL FROM, or 552 for size, condemns the message, not a recipient: the run
    stops at the first, nobody is marked failed, and the command exits 7 with one line."""
    server = server_with(faults, **server_options)
    config = make_site(tmp_path, server, {"a.md": review("Vertigo Blu-ray")})
    subscribe(config, 5)
    sent = run_cli(tmp_path, "digest", "send", "--yes")
    assert sent.returncode == 7
    error_lines = sent.stderr.splitlines()
    assert len(error_lines) == 1
    assert error_lines[0].startswith(
        f"error: the mail server at 127.0.0.1:{server.port} refused the message itself ({reply}"
    )
    assert "fix the cause, then run 'feedkit digest resume'" in error_lines[0]
    assert history.pending_count(config) == 5
    (status,) = history.status(config)
    assert status.counts == {"pending": 5}


def test_a_run_that_delivered_nothing_does_not_exit_0(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """When every recipient is refused, the command says so and exits 7."""
    server = server_with(Faults(permanent={"reader00@example.org", "reader01@example.org"}))
    config = make_site(tmp_path, server, {"a.md": review("Vertigo Blu-ray")})
    subscribe(config, 2)
    sent = run_cli(tmp_path, "digest", "send", "--yes")
    assert sent.returncode == 7
    assert sent.stderr.startswith("error: no message was delivered: digest 1: 0 sent, 2 failed")


# -- 2. no reply after the whole message
# -----------------------------------------------------------


def test_a_late_reply_after_data_is_unknown_and_resent_once_with_the_same_id(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """A server that stores the message and answers after the timeout: the delivery is 'unknown',
    not retried in that run (one copy, not max_attempts), then sent once more by the next run with
    the same Message-ID, and never again."""
    faults = Faults(reply_delay=2.5)
    server = server_with(faults)
    config = make_site(tmp_path, server, {"a.md": review("Vertigo")}, "timeout = 1\n")
    subscribe(config, 1)
    first = run_cli(tmp_path, "digest", "send", "--yes")
    assert first.returncode == 7
    assert "0 sent, 0 failed, 0 deferred, 1 unknown" in first.stdout
    assert copies_per_recipient(server) == {"reader00@example.org": 1}
    (status,) = history.status(config)
    assert status.counts == {"unknown": 1}
    faults.reply_delay = 0
    resumed = run_cli(tmp_path, "digest", "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert run_cli(tmp_path, "digest", "resume").stdout.startswith("Nothing to resume")
    copies = server.handler.by_recipient()["reader00@example.org"]
    assert len(copies) == 2
    assert copies[0].message["Message-ID"] == copies[1].message["Message-ID"]


def test_no_reply_twice_is_final(tmp_path: Path, server_with: Callable[..., SmtpServer]) -> None:
    """An unknown delivery whose one retry also gets no reply is marked failed, not tried a third
    time."""
    server = server_with(Faults(reply_delay=2.5))
    config = make_site(tmp_path, server, {"a.md": review("Vertigo")}, "timeout = 1\n")
    subscribe(config, 1)
    run_cli(tmp_path, "digest", "send", "--yes")
    run_cli(tmp_path, "digest", "resume")
    assert run_cli(tmp_path, "digest", "resume").stdout.startswith("Nothing to resume")
    assert copies_per_recipient(server) == {"reader00@example.org": 2}
    (status,) = history.status(config)
    assert status.counts == {"failed": 1}
    ((_, reason),) = status.errors
    assert reason.startswith(
        "no reply twice; not sent again to avoid copies: no reply from 127.0.0.1"
    )


# -- 3. a circuit breaker ----------------------------------------------------------------------


def test_a_server_that_never_answers_stops_the_run_after_three_timeouts(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """Three timeouts in a row stop the run: not timeout × attempts for every recipient. The rest
    stays pending, the command exits 7 in one line, and a later resume delivers each once."""
    hanging = server_with(Faults(hang_after_data=True))
    config = make_site(tmp_path, hanging, {"a.md": review("Vertigo")}, "timeout = 1\n")
    addresses = subscribe(config, 10)
    started = datetime.now(UTC)
    sent = run_cli(tmp_path, "digest", "send", "--yes")
    assert datetime.now(UTC) - started < timedelta(
        seconds=30
    )  # a guard against hanging, not a timing
    assert sent.returncode == 7
    assert len(sent.stderr.splitlines()) == 1
    assert "3 timeouts or lost connections in a row, so the mail server is taken to be down" in (
        sent.stderr
    )
    (status,) = history.status(config)
    assert status.counts == {"unknown": 3, "pending": 7}
    working = server_with()
    settings = config.path.read_text(encoding="utf-8")
    config.path.write_text(
        settings.replace(str(hanging.port), str(working.port)), encoding="utf-8"
    )
    resumed = run_cli(tmp_path, "digest", "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert copies_per_recipient(working) == dict.fromkeys(addresses, 1)


def test_an_unreachable_server_does_not_use_up_the_recipients_runs(
    tmp_path: Path, server_with: Callable[..., SmtpServer]
) -> None:
    """Runs that never reached the server do not count towards giving a recipient up: after four
    such runs the digest still goes to everyone."""
    closed_port = free_port()  # nothing listens there
    settings = smtp_settings_on(closed_port, "max_attempts = 1\n")
    config = load_config(write_site(tmp_path, {"a.md": review("Vertigo")}, settings))
    addresses = subscribe(config, 2)
    for _ in range(4):
        assert run_cli(tmp_path, "digest", "send", "--yes").returncode == 7
    running = server_with()
    settings = config.path.read_text(encoding="utf-8")
    config.path.write_text(settings.replace(str(closed_port), str(running.port)), encoding="utf-8")
    assert run_cli(tmp_path, "digest", "resume").returncode == 0
    assert copies_per_recipient(running) == dict.fromkeys(addresses, 1)


# -- 4. a lost state database --------------------------------------------------------------------


def file_site(root: Path) -> Config:
    settings = '[digest]\nfrom_address = "digest@reviews.example.org"\n'
    return load_config(write_site(root, {"a.md": review("Vertigo")}, settings))


def test_a_truncated_state_database_is_refused_while_outputs_show_history(tmp_path: Path) -> None:
    """After a digest went out, a state.db cut to zero bytes is not silently started afresh: every
    command refuses in one line (exit 5), and the old outbox is untouched."""
    config = file_site(tmp_path)
    subscribe(config, 2)
    assert run_cli(tmp_path, "build").returncode == 0
    assert run_cli(tmp_path, "digest", "send", "--yes").returncode == 0
    before = {path.name: path.read_bytes() for path in config.outbox_dir.iterdir()}
    config.database_path.write_bytes(b"")
    for command in (["build"], ["digest", "send", "--yes"], ["subscribers", "list"]):
        refused = run_cli(tmp_path, *command)
        assert refused.returncode == 5
        assert refused.stderr.splitlines() == [
            f"error: {config.database_path}: the state database is missing or empty, but "
            f"{config.output_dir / 'feed.xml'} and {config.output_dir / 'atom.xml'} and "
            f"{config.output_dir / 'feed.json'} and {config.output_dir / 'digests'} and "
            f"{config.outbox_dir} show earlier runs (its subscribers, unsubscribes and digest "
            "history would be lost); restore it from a backup, or run 'feedkit --new-state ...' "
            "to start afresh"
        ]
    assert {path.name: path.read_bytes() for path in config.outbox_dir.iterdir()} == before


def test_a_new_state_accepted_on_purpose_never_repeats_message_ids(tmp_path: Path) -> None:
    """With --new-state the next digest is number 1 again, yet its Message-IDs and .eml files are
    new: a per-digest nonce keeps them apart from the first digest 1's."""
    config = file_site(tmp_path)
    subscribe(config, 2)
    assert run_cli(tmp_path, "digest", "send", "--yes").returncode == 0
    first = set(config.outbox_dir.iterdir())
    config.database_path.unlink()
    assert run_cli(tmp_path, "--new-state", "subscribers", "list").returncode == 0
    subscribe(config, 2)
    assert run_cli(tmp_path, "digest", "send", "--yes").returncode == 0
    second = set(config.outbox_dir.iterdir()) - first
    assert len(first) == len(second) == 2
    ids = [parse(path.read_bytes())["Message-ID"] for path in sorted(first | second)]
    assert all(value.startswith("<digest-1.") for value in ids)
    assert len(set(ids)) == 4


def parse(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_a_fresh_site_needs_no_flag(tmp_path: Path) -> None:
    """Where nothing shows an earlier run, a missing state database is simply created."""
    file_site(tmp_path)
    assert run_cli(tmp_path, "build").returncode == 0


# -- 5. concurrent commands ---------------------------------------------------------------------


def run_at_once(root: Path, *commands: list[str]) -> list[tuple[int, str]]:
    """Start every command at the same moment; their exit codes and standard error."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "feedkit.cli", *command],
            cwd=root,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    return [(process.wait(timeout=60), process.communicate()[1]) for process in processes]


def test_concurrent_previews_and_sends_never_clash(tmp_path: Path) -> None:
    """Pairs of `digest preview` started at the same moment, then two `digest send --yes`, all end
    cleanly: no constraint error, no 'damaged file' hint; one send wins, the other is refused."""
    reviews: dict[str, str | bytes] = {f"r{n}.md": review(f"Review {n}") for n in range(8)}
    config = file_site(tmp_path)
    write_site(tmp_path, reviews, '[digest]\nfrom_address = "digest@reviews.example.org"\n')
    subscribe(config, 3)
    for _ in range(10):
        results = run_at_once(tmp_path, ["digest", "preview"], ["digest", "preview"])
        assert [code for code, _ in results] == [0, 0], results
    results = run_at_once(tmp_path, ["digest", "send", "--yes"], ["digest", "send", "--yes"])
    assert sorted(code for code, _ in results) in ([0, 0], [0, 6]), results
    assert not any("UNIQUE" in text or "damaged" in text for _, text in results)
    assert len(list(config.outbox_dir.glob("*.eml"))) == 3


def test_visibility_recorded_by_another_process_meanwhile_is_no_clash(tmp_path: Path) -> None:
    """Another process records the same review between this one's read and its write: the read and
    the write are one transaction, so nothing clashes and the other's row is kept."""
    config = file_site(tmp_path)
    with Store(config.database_path):
        pass  # create the schema
    other = sqlite3.connect(config.database_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # hold the write lock while this process starts its work
    outcome: list[object] = []

    def record() -> None:
        with Store(config.database_path) as store:
            try:
                mailstate.record_review_visibility(store, {"a.md"}, set(), datetime.now(UTC))
                outcome.append("recorded")
            except StateError as error:
                outcome.append(error)

    worker = threading.Thread(target=record)
    worker.start()
    time.sleep(0.5)  # let it read and then wait on the lock (a head start, not a measurement)
    other.execute(
        "INSERT INTO review_seen VALUES ('a.md', '2026-01-01T00:00:00+00:00', 0, ?)", (None,)
    )
    other.execute("COMMIT")
    worker.join(timeout=60)
    other.close()
    assert outcome == ["recorded"]
    with Store(config.database_path) as store:
        rows = store.query_all("SELECT source, first_seen FROM review_seen")
    assert rows == [("a.md", "2026-01-01T00:00:00+00:00")]


def test_a_constraint_clash_is_not_called_a_damaged_file(tmp_path: Path) -> None:
    """A unique-constraint error says to run the command again, never to move the file aside."""
    config = file_site(tmp_path)
    with Store(config.database_path) as store:
        with store.transaction() as db:
            db.execute("INSERT INTO meta VALUES ('k', 'v')")
        with pytest.raises(StateError) as caught, store.transaction() as db:
            db.execute("INSERT INTO meta VALUES ('k', 'w')")
    assert "damaged" not in str(caught.value)
    assert str(caught.value).endswith(
        "another feedkit command was changing the same data at that moment; run it again"
    )


# -- 18. the sender's name ----------------------------------------------------------------------


def test_a_from_name_with_line_breaks_is_cleaned_before_encoding(tmp_path: Path) -> None:
    """A non-ASCII from_name carrying CR LF and a header of its own becomes one clean From header
    whose decoded name holds no line break, and adds no header."""
    settings = (
        '[digest]\nfrom_address = "digest@reviews.example.org"\n'
        'from_name = "Évil\\r\\nBcc: x@example.org"\n'
    )
    config = load_config(write_site(tmp_path, {}, settings))
    content = DigestContent("Subject", "<p>x</p>", "x", ("a.md",), datetime.now(UTC), "")
    digest = FrozenDigest(1, datetime(2026, 11, 24, tzinfo=UTC), content, "0a1b2c3d")
    built = DigestMessages(config, digest, Tokens(SECRET.encode())).build("ann@example.org")
    message = parse(built.data)
    assert message["Bcc"] is None
    assert message["From"].addresses[0].display_name == "Évil Bcc: x@example.org"
    assert message["From"].addresses[0].addr_spec == "digest@reviews.example.org"
    assert not message.defects and not message["From"].defects
