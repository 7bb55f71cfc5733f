"""`feedkit digest …` and `feedkit subscribers …`: exact output lines and exit codes."""

from __future__ import annotations

import os
import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from feedkit.cli.main import main
from tests.conftest import write_site
from tests.test_newsletter import REVIEWS


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEEDKIT_SECRET", "cli-test-secret-long-enough")
    write_site(tmp_path, REVIEWS, '[digest]\nfrom_address = "digest@reviews.example.org"\n')
    (tmp_path / "people.csv").write_text(
        "email,name\nann@example.org,Ann\nbob@example.org,Bob\nnope\n", "utf-8"
    )
    return tmp_path


def run(root: Path, *args: str, stdin: str | None = None) -> Result:
    previous = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), input=stdin)
    finally:
        os.chdir(previous)


def test_subscribers_import_list_remove_export(site: Path) -> None:
    """Import reports what it did, list and export show status, remove keeps the address out."""
    imported = run(site, "subscribers", "import", "people.csv", "--confirmed")
    assert (
        imported.stdout == "Imported: 2 added, 0 already subscribed, "
        "0 kept out (unsubscribed earlier), 1 invalid\n"
    )
    assert imported.stderr == "invalid: 'nope'\n"
    assert (
        run(site, "subscribers", "remove", "BOB@example.org").stdout
        == "Unsubscribed BOB@example.org.\n"
    )
    listed = run(site, "subscribers", "list")
    assert listed.stdout == "ann@example.org\tactive\tAnn\nbob@example.org\tunsubscribed\tBob\n"
    added = run(site, "subscribers", "add", "bob@example.org")
    assert added.exit_code == 1
    assert added.stderr.startswith("error: bob@example.org unsubscribed on ")
    assert added.stderr.endswith(
        "; feedkit never mails it again; only the reader can subscribe again, from the site\n"
    )
    exported = run(site, "subscribers", "export").stdout.splitlines()
    assert exported[0] == "email,name,status,subscribed_at,unsubscribed_at,topics,source"
    assert exported[1].startswith("ann@example.org,Ann,active,")


def test_dry_run_says_what_would_be_sent(site: Path) -> None:
    """--dry-run prints subject, review count and recipients, and sends nothing."""
    run(site, "subscribers", "import", "people.csv", "--confirmed")
    result = run(site, "digest", "send", "--dry-run")
    assert result.stdout == (
        'Subject: "Test Reviews: 2 new reviews, including Vertigo Blu-ray"; 2 reviews; 2 '
        "subscribers.\n"
    )
    assert not (site / "outbox").exists()


def test_send_asks_first_and_a_no_sends_nothing(site: Path) -> None:
    """Without --yes the editor confirms; answering no aborts with nothing sent."""
    run(site, "subscribers", "import", "people.csv", "--confirmed")
    result = run(site, "digest", "send", stdin="n\n")
    assert result.exit_code == 1
    assert "Send it now? [y/N]: n\nAborted!" in result.output
    assert not (site / "outbox").exists()


def test_send_then_status(site: Path) -> None:
    """A confirmed send prints one summary line; status shows the digest's counts."""
    run(site, "subscribers", "import", "people.csv", "--confirmed")
    sent = run(site, "digest", "send", stdin="y\n")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.endswith(
        "Sent digest 1: 2 sent, 0 failed, 0 deferred, 0 unknown, 0 skipped (unsubscribed)\n"
    )
    assert len(list((site / "outbox").glob("*.eml"))) == 2
    status = run(site, "digest", "status").stdout
    assert status.startswith("#1 ")
    assert status.endswith(
        '"Test Reviews: 2 new reviews, including Vertigo Blu-ray" (2 reviews): '
        "2 sent, 0 pending, 0 unknown, 0 failed, 0 skipped\n"
    )
    again = run(site, "digest", "send", "--yes")
    today = datetime.now(ZoneInfo("Europe/London")).strftime("%-d %B %Y")
    assert again.stdout == (
        f"Nothing new: no review became public since the last digest (#1, {today}); no new digest "
        "to send.\n"
    )


def test_missing_secret_is_one_line(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sending without FEEDKIT_SECRET fails at once with how to set one, exit 2."""
    monkeypatch.delenv("FEEDKIT_SECRET")
    run(site, "subscribers", "import", "people.csv", "--confirmed")
    result = run(site, "digest", "send", "--yes")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: FEEDKIT_SECRET is not set;")
    assert len(result.stderr.splitlines()) == 1


def test_preview_prints_paths(site: Path) -> None:
    """preview names the two files it wrote."""
    assert run(site, "digest", "preview").stdout == (
        "Preview of the next digest (2 reviews):\n"
        "  HTML: .feedkit/preview/digest.html\n"
        "  text: .feedkit/preview/digest.txt\n"
    )


def test_resume_with_nothing_pending(site: Path) -> None:
    """resume with every digest finished says so."""
    assert run(site, "digest", "resume").stdout == "Nothing to resume: every digest is finished.\n"


def test_import_of_a_file_that_is_not_utf8_is_one_line(site: Path) -> None:
    """A Latin-1 CSV is refused with what to do, not a traceback; nothing is imported."""
    (site / "latin1.csv").write_bytes("email,name\nzoe@example.org,Zoë\n".encode("latin-1"))
    result = run(site, "subscribers", "import", "latin1.csv")
    assert result.exit_code == 1
    assert (
        result.stderr == "error: latin1.csv: is not UTF-8 text; "
        'save it as UTF-8 ("CSV UTF-8") and import again\n'
    )
    assert run(site, "subscribers", "list").stdout == ""


def test_address_that_needs_smtputf8_is_refused(site: Path) -> None:
    """A non-ASCII local part cannot reach most servers: it is refused at the door."""
    result = run(site, "subscribers", "add", "bé@example.org")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 'bé@example.org' is not a valid e-mail address (")
    assert (
        run(site, "subscribers", "add", "ann@bücher.example", "--confirmed").stdout
        == "Subscribed ann@bücher.example.\n"
    )
    assert run(site, "subscribers", "list").stdout == "ann@xn--bcher-kva.example\tactive\t\n"


def confirmation_links(site: Path) -> dict[str, str]:
    """The confirmation link in each .eml of the outbox, by recipient."""
    links = {}
    for path in (site / "outbox").glob("confirm-*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        text = message.get_body(("plain",))
        assert isinstance(text, EmailMessage)
        found = re.search(r"https://\S+/confirm\?t=\S+", text.get_content())
        assert found is not None
        links[str(message["To"])] = found.group()
    return links


def test_import_without_consent_mails_a_confirmation_link_to_each(site: Path) -> None:
    """Without --confirmed, new addresses wait for their readers, each mailed a link."""
    imported = run(site, "subscribers", "import", "people.csv")
    assert imported.stdout.splitlines()[1:] == [
        "2 pending until confirmed (2 confirmation links mailed)."
    ]
    assert sorted(confirmation_links(site)) == ["ann@example.org", "bob@example.org"]
    listed = run(site, "subscribers", "list", "--status", "pending").stdout
    assert listed == "ann@example.org\tpending\tAnn\nbob@example.org\tpending\tBob\n"
    assert run(site, "digest", "send", "--dry-run").stdout.endswith("; 0 subscribers.\n")


def test_add_mails_a_link_and_resend_mails_another(site: Path) -> None:
    """An editor's add waits for the reader; a resend mails a fresh link, to pending only."""
    added = run(site, "subscribers", "add", "zoe@example.org")
    assert added.stdout == (
        "Mailed a confirmation link to zoe@example.org; it is pending until followed.\n"
    )
    assert run(site, "subscribers", "resend", "zoe@example.org").exit_code == 0
    assert len(list((site / "outbox").glob("confirm-*.eml"))) == 2
    run(site, "subscribers", "add", "amy@example.org", "--confirmed")
    refused = run(site, "subscribers", "resend", "amy@example.org")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: amy@example.org is not waiting for a confirmation")


def test_import_keeps_statuses_and_topics_of_another_services_export(site: Path) -> None:
    """Who left another service stays out here; topics the site has are kept, others named."""
    (site / "config.toml").write_text(
        (site / "config.toml").read_text("utf-8")
        + '[[topics]]\nname = "blu-ray"\ntags = ["blu-ray"]\n',
        "utf-8",
    )
    (site / "export.csv").write_text(
        "Email Address,Status,Tags\n"
        "ann@example.org,unsubscribed,\n"
        "bob@example.org,subscribed,blu-ray vhs\n"
        "cy@example.org,deleted,\n",
        "utf-8",
    )
    imported = run(site, "subscribers", "import", "export.csv", "--confirmed")
    assert imported.stdout.splitlines() == [
        "Imported: 2 added, 0 already subscribed, 0 kept out (unsubscribed earlier), 1 invalid",
        "1 added as unsubscribed, bounced or complained: kept out.",
    ]
    assert imported.stderr.splitlines() == [
        "invalid: \"cy@example.org (status 'deleted')\"",
        "Topics the site does not have, ignored: vhs",
    ]
    listed = run(site, "subscribers", "list").stdout
    assert listed == "ann@example.org\tunsubscribed\t\nbob@example.org\tactive\t\tblu-ray\n"
