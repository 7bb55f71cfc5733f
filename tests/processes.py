"""`feedkit` commands as real processes for tests: `feedkit serve` waited for until its port takes
connections, and `feedkit digest send` left to run in the background."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

FEEDKIT = [sys.executable, "-m", "feedkit.cli"]
Output = int | IO[Any] | None  # where a process's stdout or stderr goes, as Popen takes it


def wait_for_port(port: int) -> None:
    """Return once something on 127.0.0.1 takes connections on `port`; fail the test with 'feedkit
    serve did not start' when nothing does within 20 s."""
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "feedkit serve did not start"
            time.sleep(0.05)


@contextmanager
def serving(
    root: Path,
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    options: Sequence[str] = (),
    stdout: Output = subprocess.DEVNULL,
    stderr: Output = subprocess.DEVNULL,
) -> Iterator[str]:
    """`feedkit serve --port PORT [options]` started from the site folder `root` with the
    environment `env` (None: the test's own), as a process of its own; yields its base URL once the
    port takes connections, and stops it when the block ends. Its output is thrown away unless
    `stdout` or `stderr` say where it goes (None: where the test's own goes)."""
    command = [*FEEDKIT, "serve", "--port", str(port), *options]
    with subprocess.Popen(command, cwd=root, env=env, stdout=stdout, stderr=stderr) as process:
        try:
            wait_for_port(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def start_send(root: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """`feedkit digest send --yes` started from the site folder `root` as a process of its own, its
    output thrown away; the caller waits for it or kills it."""
    return subprocess.Popen(
        [*FEEDKIT, "digest", "send", "--yes"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
