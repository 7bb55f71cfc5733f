"""Reads never write: a plan, a preview, a test send, the status and the editors' page all work
while a digest send holds the state database's write lock, and leave the database as it was."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from starlette.testclient import TestClient

from feedkit import pipeline
from feedkit.config import Config, load_config
from feedkit.mail.transports import FileTransport
from feedkit.newsletter import campaigns, history, subscriptions
from feedkit.store import build as build_state
from feedkit.web.app import create_app
from feedkit.web.auth import hash_password
from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import import_rows, write_site
from tests.test_newsletter import REVIEWS

SECRET = "reads-test-secret-long-enough"  # noqa: S105 - a test value
PASSWORD = "correct horse battery"  # noqa: S105 - a test value
Result = TypeVar("Result")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv(ADMIN_HASH_ENV, hash_password(PASSWORD))
    settings = '[digest]\nfrom_address = "digest@reviews.example.org"\n'
    site = load_config(write_site(tmp_path, REVIEWS, settings))
    pipeline.build(site)
    import_rows(site, [["ann@example.org"], ["bob@example.org"]])
    return site


def finishes(work: Callable[[], Result], seconds: float = 10) -> Result:
    """Run `work` in a thread; fail if it is still waiting after `seconds` (a write would wait
    for the lock for 30)."""
    result: list[Result] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "it waited for the write lock"
    assert result, "it raised"
    return result[0]


def test_reads_go_on_while_a_send_holds_the_write_lock(config: Config, tmp_path: Path) -> None:
    """With the write lock taken (as a running send takes it), reading use cases still answer."""
    before = config.database_path.read_bytes()
    holder = sqlite3.connect(config.database_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        plan = finishes(lambda: campaigns.plan_send(config))
        assert isinstance(plan, campaigns.SendPlan)
        assert plan.reviews == 2
        shown = finishes(lambda: campaigns.preview(config))
        assert isinstance(shown, campaigns.Preview)
        assert shown.reviews == 2
        outbox = FileTransport(tmp_path / "tests")
        finishes(lambda: campaigns.send_test(config, "editor@example.org", outbox))
        assert finishes(lambda: history.status(config)) == []
        assert finishes(lambda: history.pending_count(config)) == 0
        assert len(finishes(lambda: subscriptions.list_subscribers(config))) == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert config.database_path.read_bytes() == before


def test_the_editors_page_opens_while_a_send_holds_the_write_lock(config: Config) -> None:
    """Logged in before the send started, an editor can still open the dashboard and the status."""
    with TestClient(create_app(config)) as client:
        form = client.get("/admin/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token
        data = {"password": PASSWORD, "csrf": token[1]}
        assert client.post("/admin/login", data=data, follow_redirects=False).status_code == 303
        holder = sqlite3.connect(config.database_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            dashboard = finishes(lambda: client.get("/admin"))
            status = finishes(lambda: client.get("/admin/status"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert [page.status_code for page in (dashboard, status)] == [200, 200]


def test_a_preview_of_many_new_files_writes_no_cache_batch(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build writes its parse cache a batch at a time; a preview reading more new files than a
    batch (here, a batch of one) still writes nothing."""
    monkeypatch.setattr(build_state, "WRITE_BATCH", 1)
    for number in range(3):
        (config.content_dir / f"new-{number}.md").write_text(
            f"---\ntitle: New {number}\ndate: 2020-01-0{number + 1}\n---\nText.\n", "utf-8"
        )
    before = config.database_path.read_bytes()
    assert campaigns.preview(config).reviews > 0
    assert config.database_path.read_bytes() == before
