"""The example Postfix relay set-up in deploy/postfix is one Postfix itself accepts: `postconf`
knows every parameter, `postfix check` passes, and `postmap` reads the password map."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parent.parent / "deploy" / "postfix"
MASTER_CF = Path("/usr/share/postfix/master.cf.dist")
RELAY = "[smtp.example.net]:587"

pytestmark = pytest.mark.skipif(
    shutil.which("postconf", path="/usr/sbin:/usr/bin") is None or not MASTER_CF.exists(),
    reason="Postfix is not installed (Debian package postfix; `make system` installs it)",
)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def config_dir(tmp_path: Path, extra: str = "") -> Path:
    """The example main.cf and sasl_passwd with Debian's master.cf, in a folder of their own;
    queue and data live there too, so checking it touches nothing of the machine's Postfix."""
    folder = tmp_path / "postfix"
    folder.mkdir()
    shutil.copy(MASTER_CF, folder / "master.cf")
    shutil.copy(DEPLOY / "sasl_passwd", folder / "sasl_passwd")
    (folder / "sasl_passwd").chmod(0o600)
    main_cf = (DEPLOY / "main.cf").read_text(encoding="utf-8") + extra
    main_cf += f"queue_directory = {tmp_path / 'queue'}\ndata_directory = {tmp_path / 'data'}\n"
    main_cf += "maillog_file = /dev/stdout\n"  # what Postfix logs, for the test to read
    main_cf = main_cf.replace("/etc/postfix/sasl_passwd", str(folder / "sasl_passwd"))
    (folder / "main.cf").write_text(main_cf, encoding="utf-8")
    return folder


def test_postconf_knows_every_parameter_of_the_example(tmp_path: Path) -> None:
    """`postconf -n` reads the example without one warning and sees the relay it names."""
    folder = config_dir(tmp_path)
    shown = run("postconf", "-c", str(folder), "-n")
    assert shown.returncode == 0, shown.stderr
    assert "warning" not in shown.stderr
    assert f"relayhost = {RELAY}\n" in shown.stdout
    assert "smtp_tls_security_level = secure\n" in shown.stdout


def test_postconf_would_catch_a_misspelt_parameter(tmp_path: Path) -> None:
    """The warning the test above looks for is real: a typo in a parameter name produces it."""
    folder = config_dir(tmp_path, "smtp_sasl_auth_enabel = yes\n")
    shown = run("postconf", "-c", str(folder), "-n")
    assert "unused parameter: smtp_sasl_auth_enabel=yes" in shown.stderr


def checked(tmp_path: Path, *, data_owner: str) -> subprocess.CompletedProcess[str]:
    folder = config_dir(tmp_path)
    (tmp_path / "queue").mkdir()
    (tmp_path / "data").mkdir()
    shutil.chown(tmp_path / "data", data_owner)
    return run("/usr/sbin/postfix", "-c", str(folder), "check")


needs_root = pytest.mark.skipif(
    not Path("/usr/sbin/postfix").exists() or os.geteuid() != 0,
    reason="`postfix check` needs /usr/sbin/postfix and root (it sets the queue's owners)",
)


@needs_root
def test_postfix_check_accepts_the_example(tmp_path: Path) -> None:
    """`postfix check` passes on the example with its own queue folder, and warns of nothing."""
    result = checked(tmp_path, data_owner="postfix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout + result.stderr


@needs_root
def test_postfix_check_warnings_are_seen(tmp_path: Path) -> None:
    """The warnings the test above looks for reach it: a data folder Postfix does not own is
    reported."""
    result = checked(tmp_path, data_owner="root")
    assert "warning: not owned by postfix" in result.stdout


def test_the_password_map_reads_back_for_the_relay(tmp_path: Path) -> None:
    """`postmap` turns sasl_passwd into the map Postfix reads, keyed exactly as relayhost."""
    folder = config_dir(tmp_path)
    built = run("postmap", f"hash:{folder / 'sasl_passwd'}")
    assert built.returncode == 0, built.stderr
    found = run("postmap", "-q", RELAY, f"hash:{folder / 'sasl_passwd'}")
    assert found.stdout.strip() == "digest@example.org:CHANGE-ME"
