"""The digest's HTML as markup: valid where the W3C Nu checker can tell, and labelled for screen
readers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from feedkit import newsletter
from feedkit.config import load_config
from tests.conftest import write_site
from tests.test_newsletter import REVIEWS

SECRET = "digest-html-secret-long-enough"  # noqa: S105 - a test value
VNU_JAR = os.environ.get("VNU_JAR", "")  # the Nu checker's vnu.jar (npm: vnu-jar), if at hand


@pytest.fixture
def preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    written = newsletter.preview(load_config(write_site(tmp_path, REVIEWS)))
    assert written.reviews == 2
    return written.html_path


def test_stars_are_an_image_with_a_spoken_label(preview: Path) -> None:
    """The rating is one element with role="img" and a label a screen reader reads out, and no
    element carries aria-label without a role that allows it."""
    document = lxml_html.fromstring(preview.read_bytes())
    (stars,) = document.find_class("stars")
    assert (stars.get("role"), stars.get("aria-label")) == ("img", "Rated 4.5 out of 5")
    assert stars.text_content() == "★★★★½"
    labelled = document.xpath("//*[@aria-label]")
    assert [element.get("role") for element in labelled] == ["img"]


NO_CHECKER = "the Nu checker needs Java and VNU_JAR set to its vnu.jar"


@pytest.mark.skipif(not (VNU_JAR and shutil.which("java")), reason=NO_CHECKER)
def test_digest_has_no_errors_under_the_nu_checker(preview: Path) -> None:
    """The W3C Nu HTML checker finds no error in the digest (its info warnings about the layout
    tables' attributes are what mail clients need)."""
    command = ["java", "-jar", VNU_JAR, "--errors-only", "--format", "json", str(preview)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    messages = json.loads(completed.stderr)["messages"]
    assert [message["message"] for message in messages] == []
