"""The `feedkit` command: exact output lines, exit codes, and never a traceback for a user
error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import invoke, write_site

GOOD = {
    "a.md": "---\ntitle: A\ndate: 2025-01-01\n---\nFirst.\n",
    "b.md": "---\ntitle: B\ndate: 2025-02-01\n---\nSecond.\n",
}
BROKEN = {**GOOD, "broken.md": "no front matter here\n"}
NO_FRONT_MATTER = (
    "skipped: content/broken.md:1: has no front matter; start the file with a '---' line, "
    "then 'title: ...', then a '---' line"
)


def test_build_prints_one_summary_line(tmp_path: Path) -> None:
    """A clean build prints exactly one line saying what it did."""
    write_site(tmp_path, GOOD)
    result = invoke(tmp_path, "build")
    assert result.exit_code == 0
    assert result.stdout == (
        "Built: 2 reviews published, 0 drafts, 0 scheduled, 0 files skipped with problems; "
        "4 files written, 0 unchanged in public\n"
    )


def test_build_reports_broken_file_and_goes_on(tmp_path: Path) -> None:
    """A broken file is one line on stderr; the other reviews are still published."""
    write_site(tmp_path, BROKEN, "[feeds]\ncategory_feeds = false\nstylesheet = false\n")
    result = invoke(tmp_path, "build")
    assert result.exit_code == 0
    assert result.stderr == NO_FRONT_MATTER + "\n"
    assert result.stdout.startswith(
        "Built: 2 reviews published, 0 drafts, 0 scheduled, 1 file skipped"
    )
    assert (tmp_path / "public" / "feed.xml").is_file()


def test_strict_build_fails_and_writes_nothing(tmp_path: Path) -> None:
    """--strict turns any problem into exit 3 with the problems listed, and no output."""
    write_site(tmp_path, BROKEN)
    result = invoke(tmp_path, "build", "--strict")
    assert result.exit_code == 3
    assert result.stderr == (
        "error: 1 problem in the content, nothing written:\n"
        "content/broken.md:1: has no front matter; start the file with a '---' line, then 'title: "
        "...', "
        "then a '---' line; fix them, or build without --strict\n"
    )
    assert not (tmp_path / "public").exists()


def test_check_passes_on_good_content(tmp_path: Path) -> None:
    """check validates everything and says so, writing nothing."""
    write_site(tmp_path, GOOD)
    result = invoke(tmp_path, "check")
    assert result.exit_code == 0
    assert (
        result.stdout
        == "OK: config.toml is valid; 2 published, 0 drafts, 0 scheduled, no problems\n"
    )
    assert not (tmp_path / "public").exists()


def test_check_fails_on_any_problem(tmp_path: Path) -> None:
    """check exits 3 when any file has a problem, after naming it."""
    write_site(tmp_path, BROKEN)
    result = invoke(tmp_path, "check")
    assert result.exit_code == 3
    assert result.stderr == (
        f"{NO_FRONT_MATTER}\nerror: 1 problem found (2 published, 0 drafts, 0 scheduled); fix the "
        "files named above\n"
    )


def test_config_error_is_one_line_with_exit_2(tmp_path: Path) -> None:
    """A bad config key names the file and key; exit code 2."""
    write_site(tmp_path, GOOD, "[feeds]\nlimt = 3\n")
    result = invoke(tmp_path, "build")
    assert result.exit_code == 2
    assert (
        result.stderr == "error: config.toml: [feeds] limt: unknown key; did you mean 'limit'?\n"
    )


def test_missing_config_says_how_to_start(tmp_path: Path) -> None:
    """Running outside a site points at init and --config."""
    result = invoke(tmp_path, "build")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: no config.toml in {tmp_path} or any folder above it; "
        "run 'feedkit init DIR' to start a site, or pass --config PATH\n"
    )


def test_unwritable_output_is_exit_4(tmp_path: Path) -> None:
    """An output folder that cannot be created is named, with exit code 4."""
    write_site(tmp_path, GOOD, '[feeds]\noutput_dir = "config.toml/public"\n')
    result = invoke(tmp_path, "build")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        f"error: {tmp_path.resolve() / 'config.toml' / 'public'}: cannot write here ("
    )
    assert result.stderr.endswith(
        "; check that the folder exists, is writable and the disk is not full\n"
    )


def test_damaged_state_database_is_exit_5(tmp_path: Path) -> None:
    """A damaged state file is named, with what to do; exit code 5."""
    write_site(tmp_path, GOOD)
    (tmp_path / ".feedkit").mkdir()
    (tmp_path / ".feedkit" / "state.db").write_bytes(b"this is not a database" * 100)
    result = invoke(tmp_path, "build")
    assert result.exit_code == 5
    assert result.stderr.startswith(
        f"error: {tmp_path.resolve() / '.feedkit' / 'state.db'}: cannot open"
    )
    assert "move it aside and run again" in result.stderr


def test_new_creates_a_draft_that_loads(tmp_path: Path) -> None:
    """`feedkit new` writes a draft review with the title, a slug and a zoned date."""
    write_site(tmp_path, GOOD)
    result = invoke(tmp_path, "new", 'Ran: "Kurosawa" & Lear')
    assert result.exit_code == 0
    path = tmp_path / "content" / "ran-kurosawa-lear.md"
    assert result.stdout == (
        "Created content/ran-kurosawa-lear.md (a draft: remove 'draft: true' to publish it)\n"
    )
    front_matter = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
    assert front_matter["title"] == 'Ran: "Kurosawa" & Lear'
    assert front_matter["draft"] is True
    assert front_matter["date"].endswith(("+00:00", "+01:00"))  # Europe/London, with its offset
    assert (
        invoke(tmp_path, "check").stdout
        == "OK: config.toml is valid; 2 published, 1 draft, 0 scheduled, no problems\n"
    )


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    """A second `new` with the same title is refused and the file is kept."""
    write_site(tmp_path, GOOD)
    invoke(tmp_path, "new", "Vertigo")
    result = invoke(tmp_path, "new", "Vertigo")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path.resolve() / 'content' / 'vertigo.md'}: already exists; choose another "
        "title or pass --slug\n"
    )


def test_init_makes_a_site_that_builds(tmp_path: Path) -> None:
    """`feedkit init DIR` scaffolds config, templates and a sample review that builds cleanly."""
    result = invoke(tmp_path, "init", "mysite")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "Created a feedkit site in mysite (8 files)."
    site = tmp_path / "mysite"
    assert sorted(str(path.relative_to(site)) for path in site.rglob("*") if path.is_file()) == [
        "config.toml",
        "content/welcome-to-feedkit.md",
        "templates/base.html.j2",
        "templates/confirm.html.j2",
        "templates/confirm.txt.j2",
        "templates/digest.html.j2",
        "templates/digest.txt.j2",
        "templates/feed.xsl",
    ]
    built = invoke(site, "build", "--strict")
    assert built.exit_code == 0, built.output
    assert built.stdout.startswith("Built: 1 review published")


def test_init_refuses_an_existing_site(tmp_path: Path) -> None:
    """init never overwrites a site."""
    write_site(tmp_path, GOOD)
    result = invoke(tmp_path, "init", ".")
    assert result.exit_code == 1
    assert (
        result.stderr == "error: config.toml: already exists; "
        "choose an empty folder, or edit that site instead\n"
    )


@pytest.mark.parametrize("command", [[], ["build"], ["check"], ["new"], ["init"]])
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    """--help works on every command and describes it."""
    result = invoke(tmp_path, *command, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")


def test_real_process_shows_no_traceback(tmp_path: Path) -> None:
    """As a real process, a user error prints one line and no Python traceback."""
    write_site(tmp_path, GOOD, "[site]\n")  # a duplicate [site] table: invalid TOML
    completed = subprocess.run(
        [sys.executable, "-m", "feedkit.cli", "build"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.splitlines()) == 1
    assert completed.stderr.startswith("error: config.toml: is not valid TOML (")
