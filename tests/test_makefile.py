"""The Makefile's browser step never fails `make test`: a browser it cannot install means skipped
browser tests, with the reason, not a failed target."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_failing_apt_does_not_fail_the_browser_step(tmp_path: Path) -> None:
    """With Chromium missing and apt-get failing as it does when another process holds the dpkg
    lock (exit 100), `make browser` still exits 0 and says the browser tests will be skipped."""
    fake_apt = tmp_path / "apt-get"
    fake_apt.write_text(
        "#!/bin/sh\necho 'E: Could not get lock' >&2\nexit 100\n", encoding="utf-8"
    )
    fake_apt.chmod(0o755)
    command = [
        "make",
        "--no-print-directory",
        "browser",
        "CHROMIUM=no-such-browser",
        f"APT_GET={fake_apt}",
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "browser tests will be skipped" in completed.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_failing_apt_does_not_fail_the_mail_tools_step(tmp_path: Path) -> None:
    """With dnsmasq, Postfix or SpamAssassin missing and apt-get failing, `make mail-tools` still
    exits 0 and says their tests will be skipped."""
    fake_apt = tmp_path / "apt-get"
    fake_apt.write_text("#!/bin/sh\nexit 100\n", encoding="utf-8")
    fake_apt.chmod(0o755)
    command = [
        "make",
        "--no-print-directory",
        "mail-tools",
        f"MAIL_TOOLS={tmp_path / 'no-such-tool'}",
        f"APT_GET={fake_apt}",
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "their tests will be skipped" in completed.stdout
