"""Hostile review folders, each built for real: files in tmp_path, `pipeline.build`, feeds read.

One bad file is one clear problem line; it never costs the other reviews, the feeds or the machine.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

import pytest

from feedkit import pipeline
from feedkit.config import Config
from feedkit.errors import ContentError
from tests.conftest import SiteMaker

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GOOD = {"good.md": "---\ntitle: Good\ndate: 2025-01-01\n---\nStill here.\n"}
ONE_KB_LIMIT = "[content]\nmax_file_kb = 1\n"


def build(config: Config) -> pipeline.BuildReport:
    return pipeline.build(config, now=NOW)


def problem_lines(report: pipeline.BuildReport) -> list[tuple[str, bool]]:
    return [(str(problem), problem.skipped) for problem in report.problems]


def json_items(config: Config) -> list[dict[str, object]]:
    feed = json.loads((config.output_dir / "feed.json").read_text(encoding="utf-8"))
    items: list[dict[str, object]] = feed["items"]
    return items


def titles(config: Config) -> list[object]:
    return [item["title"] for item in json_items(config)]


def review(title: str, body: str = "Body.\n", date: str = "2025-01-02") -> str:
    return f"---\ntitle: {title}\ndate: {date}\n---\n{body}"


# -- names in messages ---------------------------------------------------------------------------


def test_control_characters_in_a_file_name_cannot_forge_lines(make_site: SiteMaker) -> None:
    """A file name with a newline is shown escaped in its problem line and in a strict error."""
    name = "x\nBuilt: 999 reviews published\x1b[2K.md"
    config = make_site({**GOOD, name: "---\ndate: 2025-01-02\n---\n"})
    report = build(config)
    shown = "content/x\\nBuilt: 999 reviews published\\x1b[2K.md"
    expected = f"{shown}: has no title; add a line 'title: ...' to the front matter"
    assert problem_lines(report) == [(expected, True)]
    with pytest.raises(ContentError) as caught:
        pipeline.build(config, now=NOW, strict=True)
    assert str(caught.value).split("\n") == [
        "1 problem(s) in the content, nothing written:",
        f"{expected}; fix them, or build without --strict",
    ]


def test_control_characters_in_the_content_folder_name_are_escaped(make_site: SiteMaker) -> None:
    """A missing content folder whose configured name holds a newline is named on one line."""
    config = make_site({}, extra_config='[content]\ndir = "gone\\nBuilt: 999"\n')
    with pytest.raises(ContentError) as caught:
        build(config)
    missing = f"{config.root}/gone\\nBuilt: 999: content folder not found"
    assert str(caught.value) == f"{missing}; create it or set [content] dir in config.toml"


# -- leftovers of a killed build -----------------------------------------------------------------


def test_stale_temporary_files_of_a_killed_build_are_cleaned(make_site: SiteMaker) -> None:
    """A build removes feedkit's own old `.NAME.XXXXXXXX.tmp` files and nothing else."""
    config = make_site(GOOD)
    public = config.output_dir
    (public / "categories" / "noir").mkdir(parents=True)
    stale = [public / ".feed.xml.a1b2c3d4.tmp", public / "categories/noir/.atom.xml.zz_9yy8x.tmp"]
    fresh = public / ".feed.json.q1w2e3r4.tmp"  # another writer's, still being written
    others = [public / "notes.tmp", public / ".htaccess", public / ".feed.xml.tmp"]
    others += [public / "x.feed.xml.abcdefgh.tmp", public / ".feed.xml.abcdefgh.tmp.bak"]
    hour_ago = time.time() - 3600
    for path in [*stale, fresh, *others]:
        path.write_bytes(b"partial")
        if path is not fresh:
            os.utime(path, (hour_ago, hour_ago))
    build(config)
    assert [path.exists() for path in stale] == [False, False]
    assert fresh.exists()
    assert [path.exists() for path in others] == [True] * len(others)
