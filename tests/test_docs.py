"""The README stays true to the code: every command documented, the two commands shown."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from feedkit.cli.main import main

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", main.list_commands(click.Context(main)))
def test_readme_documents_every_command(name: str) -> None:
    """Each CLI command appears in the README's command table."""
    assert f"| `feedkit {name}" in README


def test_readme_shows_the_two_commands() -> None:
    """`make run` and `make test` are how a fresh machine starts."""
    assert "make run" in README
    assert "make test" in README
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nrun:" in makefile
    assert "\ntest:" in makefile


def test_ci_runs_the_readme_test_command() -> None:
    """CI calls exactly what the README tells a developer to run."""
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_example_summary_line_matches_a_real_build(tmp_path: Path) -> None:
    """The build line quoted in the README is what the example site prints on a first build."""
    site = tmp_path / "site"
    for name in ("config.toml", "content", "templates"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, site / name)
        else:
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, site / name)
    command = [sys.executable, "-m", "feedkit.cli", "build"]
    completed = subprocess.run(command, cwd=site, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() in README


@pytest.mark.parametrize(
    "name",
    [
        "feed.xsl",
        "base.html.j2",
        "digest.html.j2",
        "digest.txt.j2",
        "confirm.html.j2",
        "confirm.txt.j2",
    ],
)
def test_example_site_uses_the_default_templates(name: str) -> None:
    """The example's templates are the ones `feedkit init` hands out, so both stay in step."""
    packaged = ROOT / "feedkit" / "scaffold" / "templates" / name
    assert (ROOT / "templates" / name).read_bytes() == packaged.read_bytes()


def readme_block(heading: str) -> list[str]:
    """The command lines of the first sh block under a README heading, without their comments."""
    section = README.split(f"## {heading}\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_start_a_site_of_your_own_runs_verbatim(tmp_path: Path) -> None:
    """The README's 'Start a site of your own' lines, run as written (with `make setup` already
    done: this very environment), end with a preview holding the sample review."""
    lines = readme_block("Start a site of your own")
    assert lines[0] == "make setup"
    assert "\nsetup:" in (ROOT / "Makefile").read_text(encoding="utf-8")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    script = " && ".join(lines[1:])
    completed = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "Preview of the next digest (1 review):" in completed.stdout
    preview = tmp_path / "mysite" / ".feedkit" / "preview" / "digest.html"
    assert "Welcome to feedkit" in preview.read_text(encoding="utf-8")
