"""`feedkit serve` as a real process under attack: the login limit and who the client is."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx2 as httpx
import pytest

from feedkit.web.auth import LOGIN_ATTEMPTS
from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import write_site
from tests.processes import serving
from tests.smtp_server import free_port
from tests.test_web import pbkdf2_hash, quick_hash

PASSWORD = "correct horse battery"  # noqa: S105 - a test value
ENV = {
    **os.environ,
    "FEEDKIT_SECRET": "security-test-secret-long-enough",
    ADMIN_HASH_ENV: quick_hash(PASSWORD),
}
Serve = Callable[..., str]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start `feedkit serve` on a site with the given extra config; return its base URL."""
    with ExitStack() as running:

        def start(extra_config: str = "", password_hash: str = ENV[ADMIN_HASH_ENV]) -> str:
            write_site(tmp_path, {}, extra_config)
            env = {**ENV, ADMIN_HASH_ENV: password_hash}
            return running.enter_context(serving(tmp_path, free_port(), env, stderr=None))

        yield start


def login_form(client: httpx.Client, password: str, headers: dict[str, str]) -> dict[str, str]:
    """The login form as a browser fills it in: the page's token and the password."""
    page = client.get("/admin/login", headers=headers).text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match
    return {"password": password, "csrf": match[1]}


def log_in(client: httpx.Client, password: str, forwarded_for: str | None = None) -> int:
    """Fill in the login form as a browser would (its token included) and post it; the status."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    data = login_form(client, password, headers)
    return client.post("/admin/login", data=data, headers=headers).status_code


def test_parallel_guesses_get_no_more_checks_than_the_limit(serve: Serve) -> None:
    """Forty guesses posted at once: at most LOGIN_ATTEMPTS are checked, the rest are refused."""
    url = serve(password_hash=pbkdf2_hash(PASSWORD, 600_000))  # slow checks: the guesses overlap
    guesses = 40
    with httpx.Client(base_url=url, timeout=120) as client:
        form = login_form(client, "wrong", {})
        start = threading.Barrier(guesses)

        def guess(_: int) -> int:
            start.wait()
            return client.post("/admin/login", data=form).status_code

        with ThreadPoolExecutor(guesses) as pool:
            statuses = list(pool.map(guess, range(guesses)))
        checked = statuses.count(401)
        assert checked <= LOGIN_ATTEMPTS
        assert set(statuses) <= {401, 429, 503}  # 503: every check slot was busy, not counted
        later = [log_in(client, "wrong") for _ in range(LOGIN_ATTEMPTS - checked)]
        assert later == [401] * (LOGIN_ATTEMPTS - checked)
        assert log_in(client, PASSWORD) == 429  # then even the right password waits


def test_forwarded_for_is_not_believed_by_default(serve: Serve) -> None:
    """With no trusted proxy set, a new X-Forwarded-For per guess does not escape the limit."""
    with httpx.Client(base_url=serve()) as client:
        statuses = [log_in(client, "wrong", f"203.0.113.{n}") for n in range(LOGIN_ATTEMPTS + 2)]
    assert statuses == [401] * LOGIN_ATTEMPTS + [429, 429]


def test_a_trusted_proxy_names_each_client(serve: Serve) -> None:
    """Behind a proxy listed in [web] trusted_proxies, each forwarded client has its own count."""
    url = serve('[web]\ntrusted_proxies = ["127.0.0.1", "::1"]\n')
    with httpx.Client(base_url=url) as client:
        first = [log_in(client, "wrong", "203.0.113.1") for _ in range(LOGIN_ATTEMPTS + 1)]
        other = log_in(client, "wrong", "203.0.113.2")
    assert first == [401] * LOGIN_ATTEMPTS + [429]
    assert other == 401
