"""`feedkit bounces ingest` over the corpus in all three file modes (standard input, maildir,
mbox), its exit codes, and a bounce and a complaint after a real send, shown by `digest status`."""

from __future__ import annotations

import hashlib
import mailbox
import os
import re
import shutil
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from feedkit.cli.main import main
from feedkit.config import load_config
from feedkit.store.db import Store
from tests.conftest import write_site
from tests.returned_mail import complaint, dsn
from tests.smtp_server import SmtpServer
from tests.state_setup import add_readers
from tests.test_newsletter import REVIEWS

CORPUS = Path(__file__).parent / "bounces"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text("utf-8"))
NAMES = sorted(EXPECTED)
# Every address the corpus names that a subscriber can have (an ASCII local part).
READERS = sorted(
    {address for entry in EXPECTED.values() for address in entry.get("recipients", [])}
)
SUBSCRIBABLE = [address for address in READERS if address.isascii()]
SETTINGS = '[digest]\nfrom_address = "digest@reviews.example.org"\n'


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEEDKIT_SECRET", "cli-bounces-secret-long-enough")
    root = tmp_path / "site"
    root.mkdir()
    add_readers(load_config(write_site(root, REVIEWS, SETTINGS)), SUBSCRIBABLE)
    return root


def run(root: Path, *args: str, stdin: bytes | None = None) -> Result:
    previous = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), input=stdin, prog_name="feedkit")
    finally:
        os.chdir(previous)


# -- the corpus, three ways ----------------------------------------------------------------------


def expected_outcome(entry: dict[str, Any]) -> str:
    """What ingest does with a message the table describes."""
    if entry["kind"] in ("auto_reply", "delay"):
        return "ignored"
    named = [address for address in entry.get("recipients", []) if address in SUBSCRIBABLE]
    return "kept" if entry["kind"] == "unknown" or not named else "recorded"


def expected_status(address: str) -> str:
    """A complaint about an address wins, else a hard bounce; one soft bounce is not enough."""
    kinds = {
        entry["kind"] for entry in EXPECTED.values() if address in entry.get("recipients", [])
    }
    if "complaint" in kinds:
        return "complained"
    return "bounced" if "hard_bounce" in kinds else "active"


def outcomes_by_name(root: Path) -> dict[str, str]:
    """Each corpus file's outcome as recorded, found by its bytes."""
    with Store(root / ".feedkit" / "state.db") as store:
        recorded = dict(store.query_all("SELECT message_key, outcome FROM bounce_messages"))
    keys = {name: hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() for name in NAMES}
    return {name: str(recorded.get(key, "not read")) for name, key in keys.items()}


Summary = tuple[Counter[tuple[str, str]], list[tuple[str, str, str]], str]


def state_summary(root: Path) -> Summary:
    """What the corpus left behind, whatever the bytes of each message were."""
    with Store(root / ".feedkit" / "state.db") as store:
        outcomes = Counter(
            (str(outcome), str(kind))
            for outcome, kind in store.query_all("SELECT outcome, kind FROM bounce_messages")
        )
        events = sorted(
            (str(key), str(kind), str(by))
            for key, kind, by in store.query_all(
                "SELECT email_key, kind, found_by FROM bounce_events"
            )
        )
    return outcomes, events, run(root, "subscribers", "list").stdout


def assert_corpus_outcomes(root: Path) -> None:
    assert outcomes_by_name(root) == {name: expected_outcome(EXPECTED[name]) for name in NAMES}
    listed = run(root, "subscribers", "list").stdout.splitlines()
    statuses = dict(line.split("\t")[:2] for line in listed)
    assert statuses == {address: expected_status(address) for address in SUBSCRIBABLE}


def test_the_corpus_on_standard_input_one_message_at_a_time(site: Path) -> None:
    """Each corpus message piped in on its own is recorded, ignored or kept aside as its table
    entry says, exits 0, and the subscribers it names end as the rules say."""
    exits = {
        name: run(site, "bounces", "ingest", stdin=(CORPUS / name).read_bytes()).exit_code
        for name in NAMES
    }
    assert set(exits.values()) == {0}
    assert_corpus_outcomes(site)


def test_the_corpus_in_a_maildir_and_read_again(site: Path, tmp_path: Path) -> None:
    """A maildir holding the corpus gives the same outcomes; reading it again changes nothing
    and says every message was read before."""
    maildir = tmp_path / "Maildir"
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True)
    for name in NAMES:
        shutil.copy(CORPUS / name, maildir / "new" / name.replace(".eml", ""))
    first = run(site, "bounces", "ingest", "--maildir", str(maildir))
    assert first.exit_code == 0, first.output
    assert_corpus_outcomes(site)
    before = state_summary(site)
    again = run(site, "bounces", "ingest", "--maildir", str(maildir))
    assert again.stdout == (
        f"Read {len(NAMES)} messages: 0 bounces, 0 complaints, 0 ignored (auto-replies, delay "
        f"notices), 0 kept aside, {len(NAMES)} read before.\n"
    )
    assert state_summary(site) == before
    assert sorted(path.name for path in (maildir / "new").iterdir()) == [n[:-4] for n in NAMES]


def test_the_corpus_in_an_mbox_gives_what_the_maildir_gave(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An mbox file of the corpus leaves the same messages, events and statuses as the maildir
    (the file's own escaping of 'From ' lines aside, which changes no outcome)."""
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    for name in NAMES:
        box.add((CORPUS / name).read_bytes())
    box.close()
    result = run(site, "bounces", "ingest", "--mbox", str(tmp_path / "bounces.mbox"))
    assert result.exit_code == 0, result.output
    from_mbox = state_summary(site)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    maildir = other / "Maildir"
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True)
    for name in NAMES:
        shutil.copy(CORPUS / name, maildir / "cur" / name)
    add_readers(load_config(write_site(other, REVIEWS, SETTINGS)), SUBSCRIBABLE)
    run(other, "bounces", "ingest", "--maildir", str(maildir))
    assert from_mbox == state_summary(other)
    by_outcome: Counter[str] = Counter()
    for (outcome, _), count in from_mbox[0].items():
        by_outcome[outcome] += count
    assert by_outcome == Counter(expected_outcome(entry) for entry in EXPECTED.values())


def test_kept_messages_are_listed_with_their_files_and_reasons(site: Path) -> None:
    """`bounces kept` prints one line per message kept aside: when, its file, and why."""
    run(site, "bounces", "ingest", stdin=(CORPUS / "forwarded_bounce_by_human.eml").read_bytes())
    listed = run(site, "bounces", "kept")
    [line] = listed.stdout.splitlines()
    received, path, reason = line.split("\t")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", received)
    assert (site / path).read_bytes() == (CORPUS / "forwarded_bounce_by_human.eml").read_bytes()
    assert path.startswith(".feedkit/bounces-kept/")
    assert reason == "no delivery report, feedback report, bounce or auto-reply"
    assert listed.stderr == "1 message kept aside\n"


# -- exit codes ---------------------------------------------------------------------------------


def test_standard_input_asks_the_mail_system_to_try_again_on_any_failure(
    site: Path, tmp_path: Path
) -> None:
    """Piped in with no config.toml to be found, or a state database that cannot be opened, the
    command prints one error line and exits 75, so Postfix or procmail keep the message."""
    bounce = (CORPUS / "dsn_postfix_user_unknown.eml").read_bytes()
    nowhere = run(tmp_path, "bounces", "ingest", stdin=bounce)
    assert (nowhere.exit_code, nowhere.stderr) == (
        75,
        f"error: no config.toml in {tmp_path} or any folder above it; run 'feedkit init DIR' to "
        "start a site, or pass --config PATH\n",
    )
    database = site / ".feedkit" / "state.db"
    database.unlink()
    database.mkdir()
    locked_out = run(site, "bounces", "ingest", stdin=bounce)
    assert locked_out.exit_code == 75
    assert locked_out.stderr.startswith(f"error: {database}: cannot open the state database")
    assert len(locked_out.stderr.splitlines()) == 1


def test_even_a_bug_asks_the_mail_system_to_try_again(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception while reading a piped message (a bug, injected here) is one error
    line and exit 75, not a traceback that would make the mail system drop the message."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr("feedkit.newsletter.bounces.ingest", broken)
    result = run(site, "bounces", "ingest", stdin=(CORPUS / "qmail_no_mailbox.eml").read_bytes())
    assert (result.exit_code, result.stderr) == (
        75,
        "error: RuntimeError: injected fault (a bug in feedkit; please report it)\n",
    )


def test_one_mailbox_at_a_time(site: Path, tmp_path: Path) -> None:
    """--maildir with --mbox is one usage error, exit 2."""
    result = run(site, "bounces", "ingest", "--maildir", str(tmp_path), "--mbox", "x.mbox")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --maildir and --mbox cannot be used together; pick one "
        "(see 'feedkit bounces ingest --help')\n",
    )


def test_a_folder_that_is_not_a_maildir_is_named(site: Path, tmp_path: Path) -> None:
    """A folder without new/ and cur/ is refused in one line that names it, exit 2."""
    result = run(site, "bounces", "ingest", "--maildir", str(tmp_path))
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: {tmp_path}: not a maildir (it has no new/ and cur/ folders); pass the folder "
        "that holds new/, cur/ and tmp/\n",
    )


# -- after a real send --------------------------------------------------------------------------


def test_a_bounce_and_a_complaint_after_a_send_show_in_digest_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest goes out over SMTP with a bounce address per recipient; a bounce to Ann's and a
    complaint about Bob's copy suppress exactly those two; status shows both; lifting Ann's
    bounce says what it did."""
    monkeypatch.setenv("FEEDKIT_SECRET", "cli-bounces-secret-long-enough")
    server = SmtpServer().start()
    try:
        settings = (
            SETTINGS + 'bounce_address = "bounces+{token}@reviews.example.org"\n'
            f'transport = "smtp"\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
            'security = "none"\n'
        )
        config = load_config(write_site(tmp_path, REVIEWS, settings))
        add_readers(config, ["ann@example.org", "bob@example.org", "cat@example.org"])
        assert run(tmp_path, "digest", "send", "--yes").exit_code == 0
        senders = {item.recipients[0]: item.sender for item in server.handler.received}
    finally:
        server.stop()
    bounced = run(
        tmp_path,
        "bounces",
        "ingest",
        stdin=dsn(to=senders["ann@example.org"], recipient="ann@example.org"),
    )
    assert bounced.stdout == (
        "Read 1 message: 1 bounce, 0 complaints, 0 ignored (auto-replies, delay notices), "
        "0 kept aside, 0 read before.\n  ann@example.org: now bounced (was active)\n"
    )
    report = complaint(envelope_sender=senders["bob@example.org"], recipient="bob@example.org")
    assert run(tmp_path, "bounces", "ingest", stdin=report).stdout.endswith(
        "  bob@example.org: now complained (was active)\n"
    )
    status = run(tmp_path, "digest", "status").stdout.splitlines()
    assert status[1:] == [
        "    came back: 1 hard bounce, 0 soft bounces, 1 complaint; complaint rate 33.33 % "
        "(above the 0.3 % line)"
    ]
    listed = run(tmp_path, "subscribers", "list").stdout
    assert (
        listed
        == "ann@example.org\tbounced\t\nbob@example.org\tcomplained\t\ncat@example.org\tactive\t\n"
    )
    lifted = run(tmp_path, "subscribers", "unsuppress", "ann@example.org").stdout
    assert re.fullmatch(
        r"ann@example\.org was bounced since \S+ \(1 hard bounce on record\); it is active again, "
        r"and its earlier bounces and complaints no longer count\.\n",
        lifted,
    )
