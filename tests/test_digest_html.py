"""The digest's HTML as markup: valid where the W3C Nu checker can tell, and labelled for screen
readers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns
from feedkit.store.db import Store
from tests.conftest import import_rows, parse_html, write_site
from tests.test_newsletter import REVIEWS, review

SECRET = "digest-html-secret-long-enough"  # noqa: S105 - a test value
# The Nu checker's vnu.jar: where `make test` puts it (npm's vnu-jar), or wherever VNU_JAR says.
INSTALLED_JAR = Path(__file__).parent.parent / ".venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
VNU_JAR = os.environ.get("VNU_JAR") or (str(INSTALLED_JAR) if INSTALLED_JAR.is_file() else "")


@pytest.fixture
def preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    written = campaigns.preview(load_config(write_site(tmp_path, REVIEWS)))
    assert written.reviews == 2
    return written.html_path


def test_stars_are_an_image_with_a_spoken_label(preview: Path) -> None:
    """The rating is one element with role="img" and a label a screen reader reads out, and no
    element carries aria-label without a role that allows it."""
    document = parse_html(preview.read_bytes())
    (stars,) = document.find_class("stars")
    assert (stars.get("role"), stars.get("aria-label")) == ("img", "Rated 4.5 out of 5")
    assert stars.text_content() == "★★★★½"
    labelled = document.xpath("//*[@aria-label]")
    assert [element.get("role") for element in labelled] == ["img"]


NO_CHECKER = "the Nu checker needs Java and its vnu.jar (make test installs it from npm)"


@pytest.mark.skipif(not (VNU_JAR and shutil.which("java")), reason=NO_CHECKER)
def test_digest_has_no_errors_under_the_nu_checker(preview: Path) -> None:
    """The W3C Nu HTML checker finds no error in the digest (its info warnings about the layout
    tables' attributes are what mail clients need)."""
    command = ["java", "-jar", VNU_JAR, "--errors-only", "--format", "json", str(preview)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    messages = json.loads(completed.stderr)["messages"]
    assert [message["message"] for message in messages] == []


def archive_nav(config: Config, name: str) -> tuple[str, list[tuple[str, str]]]:
    """An archived issue's date line, and (text, href) of the links in its issue navigation."""
    document = parse_html((config.output_dir / "digests" / name).read_bytes())
    (issue,) = document.find_class("issue")
    (nav,) = document.find_class("issue-nav")
    links = [(link.text_content(), link.get("href")) for link in nav.iter("a")]
    return issue.text_content(), links


def test_archived_issues_carry_their_date_and_lead_to_the_site_and_the_issue_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each browser copy says which day's issue it is and links to the site; the second links to
    the first; the e-mail itself carries neither."""
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    digest = '[digest]\nfrom_address = "d@reviews.example.org"\n'
    config = load_config(write_site(tmp_path, REVIEWS, digest))
    import_rows(config, [["ann@example.org"]])
    campaigns.send(config, lambda: open_transport(config))
    (config.content_dir / "stalker.md").write_text(review("Stalker DVD", 0), encoding="utf-8")
    campaigns.send(config, lambda: open_transport(config))
    with Store(config.database_path) as store:
        rows = store.query_all("SELECT created_at, archive_url, html FROM digests ORDER BY id")
    (first_made, first_url, first_mail), (second_made, second_url, second_mail) = rows
    site = ("All reviews at Test Reviews", "https://reviews.example.org/")
    first = archive_nav(config, first_url.rsplit("/", 1)[1])
    assert first == (f"Issue of {day_of(config, first_made)}", [site])
    second = archive_nav(config, second_url.rsplit("/", 1)[1])
    previous = ("← Previous issue", first_url)
    assert second == (f"Issue of {day_of(config, second_made)}", [previous, site])
    for mail in (first_mail, second_mail):
        assert "Issue of" not in mail
        assert "Previous issue" not in mail


def day_of(config: Config, moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(config.zone).strftime("%-d %B %Y")
