"""`feedkit run` rebuilds as soon as a review is saved, deleted or moved, without waiting for the
build's cron; the cron stays. A real process, real files, the kernel's notifications."""

from __future__ import annotations

import time
from pathlib import Path

import feedparser

from feedkit.config import load_config
from tests.conftest import write_site
from tests.e2e.test_service import Running, review, wait_for

# A build cron that never comes during a test: only the watcher can rebuild.
RARE = 'build = "0 0 1 1 *"\ndigest = ""\n'


def titles(root: Path) -> list[str]:
    path = root / "public" / "feed.xml"
    return [entry.title for entry in feedparser.parse(path.read_bytes()).entries]


def test_a_saved_review_reaches_the_feed_without_the_cron(tmp_path: Path) -> None:
    """Added, edited and deleted reviews each reach feed.xml by themselves; an editor's swap file
    starts no build."""
    config = load_config(write_site(tmp_path, {"a.md": review("Alpha")}, f"[schedule]\n{RARE}"))
    service = Running(tmp_path)
    try:
        wait_for((tmp_path / "public" / "feed.xml").exists)
        wait_for(lambda: "whenever a review in content/ is saved" in service.text())
        (config.content_dir / "b.md").write_text(review("Bravo"), "utf-8")
        wait_for(lambda: "Bravo" in titles(tmp_path))
        (config.content_dir / "b.md").write_text(review("Bravo, revised"), "utf-8")
        wait_for(lambda: "Bravo, revised" in titles(tmp_path))
        (config.content_dir / "a.md").unlink()
        wait_for(lambda: titles(tmp_path) == ["Bravo, revised"])
        builds = service.text().count("watch: ")
        (config.content_dir / ".b.md.swp").write_text("swap", "utf-8")
        time.sleep(0.5)  # long enough for a watcher that did react to have started a build
        assert service.text().count("watch: ") == builds
    finally:
        assert service.stop() == 0


def test_watch_false_leaves_builds_to_the_cron(tmp_path: Path) -> None:
    settings = f"[schedule]\n{RARE}watch = false\n"
    config = load_config(write_site(tmp_path, {"a.md": review("Alpha")}, settings))
    service = Running(tmp_path)
    try:
        wait_for((tmp_path / "public" / "feed.xml").exists)
        (config.content_dir / "b.md").write_text(review("Bravo"), "utf-8")
        time.sleep(1.0)  # ample for the watcher, were there one
        assert titles(tmp_path) == ["Alpha"]
        assert "whenever a review" not in service.text()
    finally:
        assert service.stop() == 0
