"""`feedkit serve` and `feedkit run --serve` as real processes: settings checked and the port
bound before "Serving" is printed; every failure one `error:` line with its exit code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from feedkit.web import ADMIN_HASH_ENV
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


def feedkit(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a feedkit command that is expected to stop by itself."""
    command = [sys.executable, "-m", "feedkit.cli", *args]
    return subprocess.run(
        command, cwd=root, env=env or environment(), capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_site(tmp_path, {}, '[schedule]\nbuild = "*/10 * * * *"\ndigest = ""\n')
    return tmp_path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield int(holder.getsockname()[1])


def assert_one_error(result: subprocess.CompletedProcess[str], code: int, line: str) -> None:
    """Exactly this one `error:` line on stderr, nothing on stdout, and this exit code."""
    assert (result.returncode, result.stderr, result.stdout) == (code, f"error: {line}\n", "")


def test_serve_says_a_short_secret_is_short(site: Path) -> None:
    """A six-character FEEDKIT_SECRET is reported as too short, not as unset, before 'Serving'."""
    env = environment(FEEDKIT_SECRET=SHORT_SECRET)
    result = feedkit(site, "serve", "--port", str(free_port()), env=env)
    message = "FEEDKIT_SECRET is shorter than 16 characters (it has 6); unsubscribe links are signed with it"
    assert_one_error(result, 2, f"{message}; {SECRET_HINT}")


@pytest.mark.parametrize("secret", [None, ""], ids=["unset", "empty"])
def test_serve_says_a_missing_secret_is_not_set(site: Path, secret: str | None) -> None:
    """Without FEEDKIT_SECRET serve stops with 'not set', before printing 'Serving'."""
    result = feedkit(site, "serve", "--port", str(free_port()), env=environment(FEEDKIT_SECRET=secret))
    message = "FEEDKIT_SECRET is not set; unsubscribe links are signed with it"
    assert_one_error(result, 2, f"{message}; {SECRET_HINT}")


def test_serve_on_a_busy_port_is_one_line_and_exit_8(site: Path, busy_port: int) -> None:
    """A port in use is one `error:` line naming the address, exit 8, and no 'Serving' line."""
    result = feedkit(site, "serve", "--port", str(busy_port))
    where = f"127.0.0.1:{busy_port}"
    assert_one_error(
        result, 8, f"cannot listen on {where}: another program is using it; stop it or choose another --port"
    )


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_serve_refuses_a_port_out_of_range(site: Path, port: str) -> None:
    """A port outside 1–65535 is a usage error: one line, exit 2, no traceback."""
    result = feedkit(site, "serve", "--port", port)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"error: invalid value for '--port': {port} is not in the range")
    assert len(result.stderr.splitlines()) == 1


def test_serve_refuses_a_host_that_is_not_this_machine(site: Path) -> None:
    """A --host no interface of this machine has is a bad setting: one line, exit 2."""
    result = feedkit(site, "serve", "--host", "192.0.2.1", "--port", str(free_port()))
    assert_one_error(result, 2, "--host 192.0.2.1: not an address of this machine; use 127.0.0.1, or 0.0.0.0 for all")


def test_serve_prints_serving_only_once_it_listens(site: Path) -> None:
    """When 'Serving' is printed the port already takes connections, and it names the editors' page
    only when the page is on."""
    for password_hash, editors in (
        (None, "editors' page off: FEEDKIT_ADMIN_PASSWORD_HASH is not set"),
        (quick_hash("long enough pass"), "editors: /admin"),
    ):
        port = free_port()
        env = environment(**{ADMIN_HASH_ENV: password_hash})
        command = [sys.executable, "-m", "feedkit.cli", "serve", "--port", str(port)]
        with subprocess.Popen(command, cwd=site, env=env, stdout=subprocess.PIPE, text=True) as process:
            try:
                assert process.stdout is not None
                line = process.stdout.readline()
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
            finally:
                process.terminate()
            process.wait(timeout=10)
        assert line == f"Serving Test Reviews at http://127.0.0.1:{port}/ ({editors}); Ctrl-C stops.\n"


def test_run_with_serve_refuses_to_start_when_the_port_is_busy(site: Path, busy_port: int) -> None:
    """`run --serve` on a busy port stops before the scheduler starts: one line, exit 8, no build."""
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
    assert result.stderr.startswith("error: FEEDKIT_SECRET is shorter than 16 characters (it has 6)")
    assert not (site / "public" / "feed.xml").exists()
