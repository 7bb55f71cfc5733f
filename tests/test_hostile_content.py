"""Hostile review folders, each built for real: files in tmp_path, `pipeline.build`, feeds read.

One bad file is one clear problem line; it never costs the other reviews, the feeds or the machine.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from feedkit import pipeline, publishing
from feedkit.config import Config
from feedkit.content.files import scan_content
from feedkit.errors import ContentError
from feedkit.store.db import Store
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


# -- YAML aliases and sizes ----------------------------------------------------------------------


def tagged_alias_bomb(depth: int) -> str:
    """Anchors written after a tag (`!!seq &l0`), each level nine aliases of the one below."""
    levels = ["l0: !!seq &l0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, depth + 1):
        levels.append(f"l{n}: !!seq &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    return "---\ntitle: Bomb\ndate: 2025-01-01\n" + "\n".join(levels) + "\n---\nBody.\n"


def test_alias_bomb_behind_tags_is_one_problem(make_site: SiteMaker) -> None:
    """A tag before each anchor slips no alias bomb past the loader: one problem, others built."""
    bomb = tagged_alias_bomb(8)
    assert len(bomb.encode()) < 600  # the size of the file first reported
    config = make_site({**GOOD, "bomb.md": bomb})
    report = build(config)
    refused = "front matter uses YAML anchors and aliases (&name, *name); write the values out"
    assert problem_lines(report) == [(f"content/bomb.md:5: {refused}", True)]
    assert titles(config) == ["Good"]


def test_deeply_nested_front_matter_is_one_problem(make_site: SiteMaker) -> None:
    """Lists nested hundreds deep are refused with a line, not a RecursionError traceback."""
    nested = "---\ntitle: Deep\ndate: 2025-01-01\ntags: " + "[" * 500 + "]" * 500 + "\n---\n"
    config = make_site({**GOOD, "deep.md": nested})
    report = build(config)
    too_deep = "front matter nests lists or mappings more than 32 deep; write it flatter"
    assert problem_lines(report) == [(f"content/deep.md:4: {too_deep}", True)]
    assert titles(config) == ["Good"]


def test_front_matter_over_64_kb_is_one_problem(make_site: SiteMaker) -> None:
    """Front matter over 64 KB is refused before any YAML is read; the other file is built."""
    padding = "".join(f"k{n}: {'v' * 60}\n" for n in range(1100))
    big = f"---\ntitle: Big\ndate: 2025-01-01\n{padding}---\nBody.\n"
    config = make_site({**GOOD, "big.md": big})
    report = build(config)
    too_big = "front matter is over 64 KB; keep it to the details"
    assert problem_lines(report) == [(f"content/big.md:1: {too_big}", True)]
    assert titles(config) == ["Good"]


def test_file_over_max_file_kb_is_one_problem(make_site: SiteMaker) -> None:
    """A file over [content] max_file_kb is refused by its size; the other file is built."""
    config = make_site({**GOOD, "huge.md": review("Huge", "word " * 500)}, ONE_KB_LIMIT)
    report = build(config)
    too_big = "is 3 KB, over the 1 KB a review may be; shorten it or raise [content] max_file_kb"
    assert problem_lines(report) == [(f"content/huge.md: {too_big}", True)]
    assert titles(config) == ["Good"]


def test_file_that_grows_after_the_scan_is_read_only_up_to_the_limit(make_site: SiteMaker) -> None:
    """A file small when scanned but over the limit when read is refused, not read whole."""
    config = make_site({**GOOD, "grows.md": review("Grows", "Short.\n")}, ONE_KB_LIMIT)
    with Store(config.database_path) as store:
        stamps = scan_content(config).stamps
        with (config.content_dir / "grows.md").open("a", encoding="utf-8") as handle:
            handle.write("word " * 100_000)
        result = publishing.load(config, store, NOW, stamps)
    too_big = "is over the 1 KB a review may be; shorten it or raise [content] max_file_kb"
    assert [str(problem) for problem in result.problems] == [f"content/grows.md: {too_big}"]
    assert [review.title for review in result.site.reviews] == ["Good"]


# -- symbolic links ------------------------------------------------------------------------------


def test_links_out_of_the_content_folder_are_refused(make_site: SiteMaker, tmp_path: Path) -> None:
    """A file or folder link leading out of the content folder is one problem naming the link."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "folder").mkdir(parents=True)
    (elsewhere / "private.md").write_text(review("Private", "Not for feeds.\n"), encoding="utf-8")
    (elsewhere / "folder" / "also.md").write_text(review("Also", "Nor this.\n"), encoding="utf-8")
    config = make_site(GOOD)
    (config.content_dir / "out.md").symlink_to(elsewhere / "private.md")
    (config.content_dir / "linked").symlink_to(elsewhere / "folder")
    report = build(config)
    hint = "leads out of the content folder and is not read; move its target inside"
    expected = [(f"content/linked: {hint}", True), (f"content/out.md: {hint}", True)]
    assert problem_lines(report) == expected
    assert titles(config) == ["Good"]
    assert "Not for feeds" not in (config.output_dir / "atom.xml").read_text(encoding="utf-8")


def test_links_that_stay_inside_the_content_folder_still_work(make_site: SiteMaker) -> None:
    """A file link and a folder link to places inside the content folder are read as before."""
    config = make_site(
        {
            **GOOD,
            "_archive/old.md": review("Old", date="2024-01-01"),
            "_shelf/shelved.md": review("Shelved", date="2024-02-01"),
        }
    )
    (config.content_dir / "featured.md").symlink_to(config.content_dir / "_archive" / "old.md")
    (config.content_dir / "shelf").symlink_to("_shelf")
    report = build(config)
    assert report.problems == ()
    assert titles(config) == ["Good", "Shelved", "Old"]


# -- author and image links ----------------------------------------------------------------------


AUTHOR_LINKS = """\
---
title: Links
date: 2025-01-02
image: javascript:alert(1)
authors:
  - name: Evil
    uri: javascript:alert(1)
  - name: Relative
    url: /about/relative/
  - name: Plain
    website: https://plain.example.org/
---
Body.
"""


def test_author_and_image_links_go_through_the_url_check(make_site: SiteMaker) -> None:
    """Unsafe author and image links are dropped with a warning; relative author links completed"""
    config = make_site({"links.md": AUTHOR_LINKS})
    report = build(config)
    unsafe = "is not an http, https, mailto or tel link; published without it"
    assert problem_lines(report) == [
        (f"content/links.md: image: 'javascript:alert(1)' {unsafe}", False),
        (f"content/links.md: author 'Evil': link 'javascript:alert(1)' {unsafe}", False),
    ]
    (item,) = json_items(config)
    assert "image" not in item
    assert item["authors"] == [
        {"name": "Evil"},
        {"name": "Relative", "url": "https://reviews.example.org/about/relative/"},
        {"name": "Plain", "url": "https://plain.example.org/"},
    ]
    atom = feedparser.parse((config.output_dir / "atom.xml").read_bytes())
    assert [author.get("href") for author in atom.entries[0].authors] == [
        None,
        "https://reviews.example.org/about/relative/",
        "https://plain.example.org/",
    ]
    assert "javascript" not in (config.output_dir / "atom.xml").read_text(encoding="utf-8")


# -- bodies that hide the text after them --------------------------------------------------------


STRAY_OPENINGS = ["<textarea>", "<style>", "<script>", "<title>", "<xmp>", "<noembed>"]
STRAY_OPENINGS += ["<plaintext>", "<!--", "<iframe>", "<noscript>", "<template>", "<object>"]
STRAY_OPENINGS += ["<noframes>"]


@pytest.mark.parametrize("stray", STRAY_OPENINGS)
def test_stray_opening_keeps_the_text_after_it_and_warns(make_site: SiteMaker, stray: str) -> None:
    """An unclosed raw-text tag or comment hides no more of the body, and the editor is told."""
    body = f"The first.\n\n{stray}\n\nThe *second* paragraph.\n\nA third, with a {stray} inline.\n"
    config = make_site({"stray.md": review("Stray", body)})
    report = build(config)
    never_closed = "is never closed, so it is shown as text; close it or delete it"
    assert problem_lines(report) == [(f"content/stray.md: body: {stray} {never_closed}", False)]
    (item,) = json_items(config)
    shown = str(item["content_html"])
    assert "The <em>second</em> paragraph." in shown
    assert "A third, with a" in shown
    assert "inline." in shown


def test_text_removed_with_a_closed_unsafe_element_is_a_warning(make_site: SiteMaker) -> None:
    """Text in a closed <textarea> is left out of the feed, with a warning; the rest is shown."""
    body = "Before.\n\n<textarea>Words a reader will never see.</textarea>\n\nAfter.\n"
    config = make_site({"removed.md": review("Removed", body)})
    report = build(config)
    left_out = "the text inside <textarea> is left out of the feeds"
    hint = "delete the element or move the text out of it"
    assert problem_lines(report) == [(f"content/removed.md: body: {left_out}; {hint}", False)]
    (item,) = json_items(config)
    assert "never see" not in str(item["content_html"])
    assert "After." in str(item["content_html"])


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
        "1 problem in the content, nothing written:",
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
