"""What a build leaves in public/ and says about the content folder: feeds it no longer plans are
removed (and nothing else), an empty site has plausible dates, and passed-over files are
counted."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from feedkit import pipeline
from feedkit.config import load_config
from tests.conftest import write_site


def review(title: str, category: str) -> str:
    return f"---\ntitle: {title}\ndate: 2025-03-01\ncategories: [{category}]\n---\nText.\n"


def test_a_category_that_empties_loses_its_feeds_and_nothing_else_is_touched(
    tmp_path: Path,
) -> None:
    """Deleting a category's only review removes that category's three feed files (and their
    folder) on the next build; a file of the editor's own beside them stays."""
    config = load_config(
        write_site(tmp_path, {"a.md": review("A", "Blu-ray"), "b.md": review("B", "DVD")})
    )
    pipeline.build(config)
    dvd = config.output_dir / "categories" / "dvd"
    assert sorted(path.name for path in dvd.iterdir()) == ["atom.xml", "feed.json", "feed.xml"]
    own = config.output_dir / "categories" / "notes.txt"
    own.write_text("mine", encoding="utf-8")
    (config.content_dir / "b.md").unlink()
    report = pipeline.build(config)
    assert not dvd.exists()
    assert sorted(path.name for path in report.removed) == ["atom.xml", "feed.json", "feed.xml"]
    assert own.read_text(encoding="utf-8") == "mine"
    assert (config.output_dir / "categories" / "blu-ray" / "feed.xml").is_file()
    assert "B" not in [
        entry.title for entry in feedparser.parse(config.output_dir / "feed.xml").entries
    ]
    assert report.summary("public").endswith("3 removed in public")


def test_a_format_turned_off_and_a_new_content_folder_leave_no_stale_feeds(tmp_path: Path) -> None:
    """Turning JSON Feed off removes every feed.json; pointing [content] dir elsewhere removes the
    feeds of categories the new folder does not have."""
    write_site(tmp_path, {"a.md": review("A", "Blu-ray")})
    config = load_config(tmp_path / "config.toml")
    pipeline.build(config)
    settings = config.path.read_text(encoding="utf-8")
    config.path.write_text(settings + '[feeds]\nformats = ["rss", "atom"]\n', encoding="utf-8")
    pipeline.build(load_config(config.path))
    assert list(config.output_dir.rglob("feed.json")) == []
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text(review("X", "Cinema"), encoding="utf-8")
    moved = settings.replace("[site]", '[content]\ndir = "other"\n[site]')
    config.path.write_text(moved, encoding="utf-8")
    pipeline.build(load_config(config.path))
    assert not (config.output_dir / "categories" / "blu-ray").exists()
    assert (config.output_dir / "categories" / "cinema" / "feed.xml").is_file()


def test_the_web_side_no_longer_serves_a_removed_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a category empties, its feed answers 404 from `feedkit serve`."""
    from starlette.testclient import TestClient  # noqa: PLC0415

    from feedkit.web.app import create_app  # noqa: PLC0415

    config = load_config(
        write_site(tmp_path, {"a.md": review("A", "Blu-ray"), "b.md": review("B", "DVD")})
    )
    pipeline.build(config)
    (config.content_dir / "b.md").unlink()
    pipeline.build(config)
    monkeypatch.setenv("FEEDKIT_SECRET", "a-test-secret-that-is-long-enough")
    with TestClient(create_app(config)) as client:
        assert client.get("/categories/dvd/feed.xml").status_code == 404
        assert client.get("/categories/blu-ray/feed.xml").status_code == 200


def run_build(root: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedkit.cli", "build"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def test_an_empty_site_says_so_and_its_feeds_carry_a_stable_plausible_date(tmp_path: Path) -> None:
    """No review at all: the build says where it looked, and the empty feeds are dated by the
    site's first build (kept in state), not 1970, the same on every build."""
    write_site(tmp_path, {})
    built = run_build(tmp_path)
    assert built.returncode == 0
    assert "note: no reviews found under content/; add one with 'feedkit new \"A title\"'" in (
        built.stderr
    )
    parsed = feedparser.parse(tmp_path / "public" / "atom.xml")
    year, month, day, hour, minute, second = parsed.feed.updated_parsed[:6]
    updated = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    assert abs((datetime.now(UTC) - updated).total_seconds()) < 300
    first = (tmp_path / "public" / "feed.xml").read_bytes()
    (tmp_path / "public" / "feed.xml").unlink()
    run_build(tmp_path)
    assert (tmp_path / "public" / "feed.xml").read_bytes() == first


def test_markdown_in_underscore_folders_is_counted_and_explained(tmp_path: Path) -> None:
    """Files under a folder whose name starts with '_' are not read; the build says how many and
    why, with an example; Jekyll's _posts is read."""
    reviews: dict[str, str | bytes] = {
        f"_content/blog/post{n}.md": review(f"P{n}", "Cinema") for n in range(3)
    }
    reviews["_index.md"] = "---\ntitle: Home\n---\n"
    reviews["_posts/2025-03-01-kept.md"] = "---\ntitle: Kept\n---\nText.\n"
    write_site(tmp_path, reviews)
    built = run_build(tmp_path)
    assert built.stdout.startswith("Built: 1 review published")
    assert (
        "note: 4 Markdown files not read (e.g. content/_content/blog/post0.md): names starting "
        "with '_' are skipped, as Hugo's _index.md and Jekyll's _drafts are; only _posts is read"
    ) in built.stderr
