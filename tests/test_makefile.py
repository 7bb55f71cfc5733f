"""The Makefile's system step never fails `make test`: a program it cannot install means skipped
tests, with the reason, not a failed target."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_failing_apt_does_not_fail_the_system_step(tmp_path: Path) -> None:
    """With programs missing and apt-get failing as it does when another process holds the dpkg
    lock (exit 100), `make system` still exits 0 and names what will be skipped; a program that
    is there is not asked for."""
    fake_apt = tmp_path / "apt-get"
    fake_apt.write_text(
        "#!/bin/sh\necho 'E: Could not get lock' >&2\nexit 100\n", encoding="utf-8"
    )
    fake_apt.chmod(0o755)
    missing = f"chromium:{tmp_path / 'no-browser'} postfix:{tmp_path / 'no-postfix'}"
    present = f"dnsmasq-base:{shutil.which('sh')}"
    command = [
        "make",
        "--no-print-directory",
        "system",
        f"SYSTEM_PACKAGES={missing} {present}",
        f"APT_GET={fake_apt}",
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "Could not install chromium postfix (apt failed)" in completed.stdout
    assert "their tests will be skipped" in completed.stdout
    assert "dnsmasq-base" not in completed.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_checker_that_cannot_be_fetched_does_not_fail_the_step(tmp_path: Path) -> None:
    """When npm cannot fetch the Nu checker (no registry, say), `make vnu` still exits 0 and
    says its test will be skipped."""
    for name, script in (("npm", "echo 'npm ERR! network' >&2\nexit 1"), ("java", "exit 0")):
        fake = tmp_path / name
        fake.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
        fake.chmod(0o755)
    command = ["make", "--no-print-directory", "vnu", f"VNU_JAR={tmp_path / 'absent.jar'}"]
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "Nu HTML checker could not be installed" in completed.stdout
    assert "its test is skipped" in completed.stdout
