"""What `feedkit serve` logs, as a real process: one line per login, test, send and unsubscribe,
on stderr, with no subscriber's address in clear."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import httpx2 as httpx

from feedkit import pipeline
from feedkit.config import load_config
from feedkit.tokens import Purpose, Tokens
from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import import_rows, write_site
from tests.processes import serving
from tests.smtp_server import free_port
from tests.test_newsletter import REVIEWS
from tests.test_web import quick_hash

SECRET = "serve-log-secret-long-enough"  # noqa: S105 - a test value
PASSWORD = "correct horse battery"  # noqa: S105 - a test value
NOTHING_ELSE = "0 failed, 0 deferred, 0 unknown, 0 skipped (unsubscribed)"
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) (.*)")


def tag(address: str) -> str:
    """The short hash the log uses for an address, as the README tells how to compute it."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:12]


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match
    return match[1]


def editor_session(client: httpx.Client) -> str:
    """A wrong password, then the right one; the session's CSRF token."""
    for password in ("wrong", PASSWORD):
        form = {"password": password, "csrf": csrf_of(client.get("/admin/login").text)}
        client.post("/admin/login", data=form)
    return csrf_of(client.get("/admin").text)


def send_and_wait(client: httpx.Client, csrf: str) -> None:
    client.post("/admin/send", data={"csrf": csrf})
    deadline = time.monotonic() + 30  # a generous bound: two messages to the outbox folder
    while "Sending…" in client.get("/admin/status").text:
        assert time.monotonic() < deadline, "the send did not finish"
        time.sleep(0.05)


def test_serve_logs_each_login_test_send_and_unsubscribe(tmp_path: Path) -> None:
    """Each event is one line on stderr with the client's address; subscribers appear only as a
    short hash of their address."""
    digest = '[digest]\nfrom_address = "d@reviews.example.org"\n'
    config = load_config(write_site(tmp_path, REVIEWS, digest))
    pipeline.build(config)
    import_rows(config, [["ann@example.org"], ["bob@example.org"]])
    env = {**os.environ, "FEEDKIT_SECRET": SECRET, ADMIN_HASH_ENV: quick_hash(PASSWORD)}
    log_path = tmp_path / "serve.log"
    with (
        log_path.open("w") as log,
        serving(tmp_path, free_port(), env, stdout=None, stderr=log) as url,
        httpx.Client(base_url=url) as client,
    ):
        csrf = editor_session(client)
        client.post("/admin/test", data={"csrf": csrf, "address": "Editor@Example.org"})
        send_and_wait(client, csrf)
        token = Tokens(SECRET.encode()).make(Purpose.UNSUBSCRIBE, "ann@example.org")
        for _ in range(2):
            client.post(f"/unsubscribe?t={token}", data={"List-Unsubscribe": "One-Click"})
        client.post("/admin/logout", data={"csrf": csrf})
    text = log_path.read_text(encoding="utf-8")
    lines = [LOG_LINE.fullmatch(line) for line in text.splitlines()]
    assert all(lines), text
    assert [(match[1], match[2]) for match in lines if match] == [
        ("WARNING", "admin: login failed from 127.0.0.1 (wrong password)"),
        ("INFO", "admin: login from 127.0.0.1"),
        ("INFO", f"digest: test sent to {tag('editor@example.org')} (from 127.0.0.1)"),
        ("INFO", "digest: send started on the editors' page (from 127.0.0.1)"),
        ("INFO", f"digest: digest 1: 2 sent, {NOTHING_ELSE}"),
        ("INFO", f"unsubscribe: {tag('ann@example.org')} unsubscribed"),
        ("INFO", f"unsubscribe: {tag('ann@example.org')} was not subscribed"),
        ("INFO", "admin: logout from 127.0.0.1"),
    ]
    assert "@example.org" not in text
