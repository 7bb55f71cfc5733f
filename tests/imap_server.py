"""A real IMAP server for tests: Debian's Dovecot, run in the foreground from a private
configuration in a temporary folder, on loopback ports, with a trustme certificate.

As root it runs its processes as Dovecot's own users, as anyone else as that user; where Dovecot is
not installed or will not start, `start` raises UnavailableError with the reason.
"""

from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import trustme

from tests.smtp_server import free_port

USER, PASSWORD = "bounces", "imap-test-password"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


class UnavailableError(Exception):
    """Dovecot cannot run here; the message says why."""


class ImapServer:
    """Start with `start()`, stop with `stop()`; `client()` logs in over plain IMAP on loopback."""

    def __init__(self, ca: trustme.CA, extra_config: str = "") -> None:
        self.ca = ca
        self.extra_config = extra_config
        self.root = Path(tempfile.mkdtemp(prefix="feedkit-imap-"))
        self.plain_port = free_port()
        self.tls_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ImapServer:
        try:
            self._start()
        except UnavailableError:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if not Path(DOVECOT).is_file():
            raise UnavailableError(
                "Dovecot is not installed ('make system' installs dovecot-imapd)"
            )
        self._write_files()
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if not self._listening():
            raise UnavailableError(f"Dovecot did not start: {self._why_not()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.plain_port, timeout=10)
        connection.login(USER, PASSWORD)
        return connection

    def _write_files(self) -> None:
        users = _users()
        self.root.chmod(0o755)  # Dovecot's own users must reach the mail folder inside
        for folder in ("run", "state", f"home/{USER}"):
            (self.root / folder).mkdir(parents=True)
        os.chown(self.root / "home", users.uid, users.gid)
        os.chown(self.root / "home" / USER, users.uid, users.gid)
        certificate = self.ca.issue_cert("127.0.0.1")
        certificate.private_key_pem.write_to_path(str(self.root / "key.pem"))
        certificate.cert_chain_pems[0].write_to_path(str(self.root / "cert.pem"))
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", "utf-8")
        config = CONFIG.format(
            root=self.root, plain_port=self.plain_port, tls_port=self.tls_port, **asdict(users)
        )
        (self.root / "dovecot.conf").write_text(config + self.extra_config, "utf-8")

    def _listening(self) -> bool:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.plain_port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def _why_not(self) -> str:
        log = self.root / "dovecot.log"
        lines = log.read_text("utf-8", "replace").splitlines() if log.exists() else []
        if self.process is not None and self.process.poll() is not None and self.process.stderr:
            lines += self.process.stderr.read().decode("utf-8", "replace").splitlines()
        return lines[-1] if lines else "it did not listen within 15 seconds"


@dataclass(frozen=True)
class RunAs:
    """Who Dovecot's processes run as, and who owns the mail."""

    internal: str
    internal_group: str
    login: str
    uid: int
    gid: int


def _users() -> RunAs:
    """Dovecot's own users as root (it refuses to log in as root), else the user running tests."""
    if os.geteuid() == 0:
        try:
            internal = pwd.getpwnam("dovecot")
            pwd.getpwnam("dovenull")
        except KeyError as exc:
            missing = "Dovecot's users are missing (is dovecot-core installed?)"
            raise UnavailableError(missing) from exc
        group = grp.getgrgid(internal.pw_gid).gr_name
        return RunAs("dovecot", group, "dovenull", internal.pw_uid, internal.pw_gid)
    me = getpass.getuser()
    return RunAs(me, grp.getgrgid(os.getgid()).gr_name, me, os.getuid(), os.getgid())
