"""`feedkit serve` and `feedkit run --serve` as real processes: settings checked and the port
bound before "Serving" is printed; every failure one `error:` line with its exit code."""

from __future__ import annotations

import os
import pty
import re
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from feedkit.web.auth import check_password
from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import write_site
from tests.smtp_server import free_port
from tests.test_web import quick_hash

SECRET = "serve-start-secret-long-enough"  # noqa: S105 - a test value
NEW_SECRET_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105
SECRET_HINT = f'export FEEDKIT_SECRET="$({NEW_SECRET_COMMAND})"'
SHORT_SECRET = "abcdef"  # noqa: S105 - a test value


def environment(**changes: str | None) -> dict[str, str]:
    """The test's environment with a good secret, no password hash, and the given changes."""
    env = {**os.environ, "FEEDKIT_SECRET": SECRET}
    env.pop(ADMIN_HASH_ENV, None)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


Completed = subprocess.CompletedProcess[str]
Env = dict[str, str]
Args = list[str]
QUIET_RUN: dict[str, Any] = {"capture_output": True, "text": True, "timeout": 60}


def feedkit(root: Path, *args: str, env: Env | None = None, typed: str = "") -> Completed:
    """Run a feedkit command that is expected to stop by itself, `typed` on its standard input."""
    command = [sys.executable, "-m", "feedkit.cli", *args]
    options: dict[str, Any] = {"cwd": root, "env": env or environment(), "input": typed}
    return subprocess.run(command, check=False, **options, **QUIET_RUN)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_site(tmp_path, {}, '[schedule]\nbuild = "*/10 * * * *"\ndigest = ""\n')
    return tmp_path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield int(holder.getsockname()[1])


def assert_one_error(result: Completed, code: int, line: str) -> None:
    """Exactly this one `error:` line on stderr, nothing on stdout, and this exit code."""
    assert (result.returncode, result.stderr, result.stdout) == (code, f"error: {line}\n", "")


def test_serve_says_a_short_secret_is_short(site: Path) -> None:
    """A six-character FEEDKIT_SECRET is reported as too short, not as unset, before 'Serving'."""
    env = environment(FEEDKIT_SECRET=SHORT_SECRET)
    result = feedkit(site, "serve", "--port", str(free_port()), env=env)
    message = "FEEDKIT_SECRET is shorter than 16 characters (it has 6)"
    assert_one_error(result, 2, f"{message}; unsubscribe links are signed with it; {SECRET_HINT}")


@pytest.mark.parametrize("secret", [None, ""], ids=["unset", "empty"])
def test_serve_says_a_missing_secret_is_not_set(site: Path, secret: str | None) -> None:
    """Without FEEDKIT_SECRET serve stops with 'not set', before printing 'Serving'."""
    env = environment(FEEDKIT_SECRET=secret)
    result = feedkit(site, "serve", "--port", str(free_port()), env=env)
    message = "FEEDKIT_SECRET is not set; unsubscribe links are signed with it"
    assert_one_error(result, 2, f"{message}; {SECRET_HINT}")


def test_serve_on_a_busy_port_is_one_line_and_exit_8(site: Path, busy_port: int) -> None:
    """A port in use is one `error:` line naming the address, exit 8, and no 'Serving' line."""
    result = feedkit(site, "serve", "--port", str(busy_port))
    where = f"127.0.0.1:{busy_port}"
    assert_one_error(
        result,
        8,
        f"cannot listen on {where}: another program is using it; stop it or choose another --port",
    )


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_serve_refuses_a_port_out_of_range(site: Path, port: str) -> None:
    """A port outside 1–65535 is a usage error: one line, exit 2, no traceback."""
    result = feedkit(site, "serve", "--port", port)
    assert (result.returncode, result.stdout) == (2, "")
    out_of_range = f"error: invalid value for '--port': {port} is not in the range"
    assert result.stderr.startswith(out_of_range)
    assert len(result.stderr.splitlines()) == 1


def test_serve_refuses_a_host_that_is_not_this_machine(site: Path) -> None:
    """A --host no interface of this machine has is a bad setting: one line, exit 2."""
    result = feedkit(site, "serve", "--host", "192.0.2.1", "--port", str(free_port()))
    assert_one_error(
        result,
        2,
        "--host 192.0.2.1: not an address of this machine; use 127.0.0.1, or 0.0.0.0 for all",
    )


def test_serve_prints_serving_only_once_it_listens(site: Path) -> None:
    """When 'Serving' is printed the port already takes connections, and it names the editors' page
    only when the page is on."""
    for password_hash, editors in (
        (None, "editors' page off: FEEDKIT_ADMIN_PASSWORD_HASH is not set"),
        (quick_hash("long enough pass"), "editors: /admin"),
    ):
        port = free_port()
        line = first_line_of_serve(site, port, environment(**{ADMIN_HASH_ENV: password_hash}))
        url = f"http://127.0.0.1:{port}/"
        assert line == f"Serving Test Reviews at {url} ({editors}); Ctrl-C stops.\n"


def first_line_of_serve(site: Path, port: int, env: dict[str, str]) -> str:
    """The first line `feedkit serve` prints; the port must take connections once it is out."""
    command = [sys.executable, "-m", "feedkit.cli", "serve", "--port", str(port)]
    output = subprocess.PIPE
    with subprocess.Popen(command, cwd=site, env=env, stdout=output, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
        finally:
            process.terminate()
        process.wait(timeout=10)
    return line


def test_run_with_serve_refuses_to_start_when_the_port_is_busy(site: Path, busy_port: int) -> None:
    """`run --serve` on a busy port stops before the scheduler starts: exit 8, no build."""
    result = feedkit(site, "run", "--serve", "--port", str(busy_port))
    where = f"127.0.0.1:{busy_port}"
    assert (result.returncode, result.stdout) == (8, "")
    assert result.stderr == f"error: cannot listen on {where}: another program is using it; " + (
        "stop it or choose another --port\n"
    )
    assert not (site / "public" / "feed.xml").exists()


def test_run_with_serve_checks_the_web_settings_first(site: Path) -> None:
    """`run --serve` with a short secret stops at once with the serve's own message, exit 2."""
    env = environment(FEEDKIT_SECRET=SHORT_SECRET)
    result = feedkit(site, "run", "--serve", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: FEEDKIT_SECRET is shorter than 16 characters")
    assert not (site / "public" / "feed.xml").exists()


HASH_LINE = re.compile(rf"{ADMIN_HASH_ENV}='(\$argon2id\$[^']+)'\n")


def test_hash_password_reads_a_pipe_quietly(tmp_path: Path) -> None:
    """From a pipe, one line is the password: the hash is printed alone, with no GetPassWarning."""
    result = feedkit(tmp_path, "serve", "--hash-password", typed="a long pass phrase\n")
    assert (result.returncode, result.stderr) == (0, "")
    match = HASH_LINE.fullmatch(result.stdout)
    assert match
    assert check_password("a long pass phrase", match[1])


REFUSED_PASSWORDS = [
    ("x\n", "the password has 1 character; use at least 12"),
    ("eleven char\n", "the password has 11 characters; use at least 12"),
    ("", "no password on standard input; pipe it in as one line, or run this at a terminal"),
]


@pytest.mark.parametrize(("typed", "line"), REFUSED_PASSWORDS)
def test_hash_password_refuses_short_or_no_password(tmp_path: Path, typed: str, line: str) -> None:
    """A password under twelve characters, or none, is one `error:` line, exit 2, and no hash."""
    assert_one_error(feedkit(tmp_path, "serve", "--hash-password", typed=typed), 2, line)


def test_hash_password_at_a_terminal_asks_twice_and_again_when_short() -> None:
    """At a terminal the password is typed twice, unseen; a short one is refused, asked again."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "feedkit.cli", "serve", "--hash-password"]
    # A new session has no controlling terminal: getpass then uses the pseudo-terminal on stdin.
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True
    )
    os.close(terminal)
    asked = [
        (b"page: ", "short"),
        (b"page: ", "a long pass phrase"),
        (b"confirmation: ", "a long pass phrase"),
    ]
    shown = []
    for prompt, answer in asked:
        shown.append(read_until(controller, prompt))
        os.write(controller, answer.encode() + b"\r")
    output = "".join(shown) + read_until(controller, b"'\r\n")
    assert process.wait(timeout=30) == 0
    os.close(controller)
    match = re.search(rf"{ADMIN_HASH_ENV}='(\$argon2id\$[^']+)'", output)
    assert match
    assert check_password("a long pass phrase", match[1])
    assert "the password has 5 characters; use at least 12" in output
    assert "a long pass phrase" not in output  # never echoed


def read_until(descriptor: int, end: bytes) -> str:
    """What the terminal shows up to and including `end` (a generous bound: a prompt that never
    comes fails the test instead of hanging it)."""
    seen = b""
    while not seen.endswith(end):
        ready, _, _ = select.select([descriptor], [], [], 30)
        assert ready, seen
        chunk = os.read(descriptor, 1)
        assert chunk, seen
        seen += chunk
    return seen.decode()


UNREADABLE_HASHES = ["not a hash", "$argon2id$v=19$m=8,t=1,p=1$zz", "pbkdf2_sha256$x$y$z"]
HASH_REFUSED = (
    f"{ADMIN_HASH_ENV} is not a password hash feedkit can read, so no login could succeed; "
    "make one with 'feedkit serve --hash-password' and set what is between its quotes"
)


@pytest.mark.parametrize("stored", UNREADABLE_HASHES)
@pytest.mark.parametrize("command", [["serve"], ["run", "--serve"]])
def test_an_unreadable_hash_is_refused_at_start(site: Path, stored: str, command: Args) -> None:
    """A malformed FEEDKIT_ADMIN_PASSWORD_HASH stops serve (and run --serve) at once with one
    line, instead of starting an editors' page where every login fails."""
    env = environment(**{ADMIN_HASH_ENV: stored})
    result = feedkit(site, *command, "--port", str(free_port()), env=env)
    assert_one_error(result, 2, HASH_REFUSED)


def test_run_with_serve_logs_where_it_serves_once_it_listens(site: Path) -> None:
    """`run --serve` logs one line naming the address (and whether the editors' page is on) once
    its port takes connections."""
    port = free_port()
    command = [sys.executable, "-m", "feedkit.cli", "run", "--serve", "--port", str(port)]
    with subprocess.Popen(command, cwd=site, env=environment(), stderr=subprocess.PIPE) as process:
        try:
            assert process.stderr is not None
            log = read_until(process.stderr.fileno(), b"is not set)\n")
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        finally:
            process.terminate()
        process.wait(timeout=15)
    editors = f"editors' page off: {ADMIN_HASH_ENV} is not set"
    assert f" INFO web: serving at http://127.0.0.1:{port}/ ({editors})\n" in log
