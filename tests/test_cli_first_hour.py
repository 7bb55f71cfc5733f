"""A newcomer's first hour, through real `feedkit` processes: finding the config, one-line usage
errors, `init` that says how to go on, a first digest that shows the sample review."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from tests.conftest import write_site

GOOD = {"a.md": "---\ntitle: A\ndate: 2025-01-01\n---\nFirst.\n"}
ENV = {**os.environ, "FEEDKIT_SECRET": "first-hour-secret-long-enough"}


def feedkit(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feedkit.cli", *args]
    return subprocess.run(
        command, cwd=cwd, env=ENV, input=stdin, capture_output=True, text=True, check=False
    )


def test_config_is_found_in_a_parent_folder(tmp_path: Path) -> None:
    """From inside content/ (or deeper), the site's config.toml is found as git finds its
    folder."""
    write_site(tmp_path, {"reviews/2025/a.md": GOOD["a.md"]})
    built = feedkit(tmp_path / "content" / "reviews", "build")
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("Built: 1 review published")
    assert (tmp_path / "public" / "feed.xml").is_file()


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_option_before_or_after_the_command(tmp_path: Path, where: str) -> None:
    """`--config PATH` works before the command name and after it, for nested commands too."""
    (tmp_path / "site").mkdir()
    config = write_site(tmp_path / "site", GOOD)
    option = ["--config", str(config)]
    for command in (["build"], ["digest", "status"], ["subscribers", "list"]):
        args = [*option, *command] if where == "before" else [*command, *option]
        result = feedkit(tmp_path, *args)
        assert result.returncode == 0, (args, result.stderr)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["biuld"], "error: no such command 'biuld'; did you mean 'build'?"),
        (["digest", "sned"], "error: no such command 'sned'; did you mean 'send'?"),
        (["frobnicate"], "error: no such command 'frobnicate'; see 'feedkit --help'"),
        (["build", "--frob"], "error: no such option '--frob' (see 'feedkit build --help')"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], line: str) -> None:
    """An unknown command or option is one `error:` line (with a guess where there is one), exit
    2."""
    result = feedkit(tmp_path, *args)
    assert (result.returncode, result.stderr, result.stdout) == (2, line + "\n", "")


def test_feedkit_alone_shows_the_help(tmp_path: Path) -> None:
    """`feedkit` with nothing after it lists the commands, as --help does, and exits 0."""
    alone, help_ = feedkit(tmp_path), feedkit(tmp_path, "--help")
    assert alone.returncode == help_.returncode == 0
    assert alone.stdout == help_.stdout
    assert "  digest " in alone.stdout


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    """`feedkit --help` loads neither the web server, the scheduler, the mail code nor the
    renderers: a command's modules are imported when it runs."""
    probe = (
        "import sys\nfrom feedkit.cli.main import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = {'uvicorn', 'starlette', 'apscheduler', 'rich', 'jinja2', 'feedgen', 'yaml',\n"
        "         'email_validator', 'markdown_it', 'nh3', 'css_inline', 'sqlite3'}\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert completed.stdout.splitlines()[-1] == "[]"


def test_digest_status_loads_nothing_a_send_needs(tmp_path: Path) -> None:
    """`feedkit digest status` only reads: no renderer, mail builder, signer or parser loads."""
    write_site(tmp_path, {})
    probe = (
        "import sys\nfrom feedkit.cli.main import main\ntry:\n"
        "    main(['digest', 'status'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'jinja2', 'feedgen', 'yaml', 'email_validator', 'markdown_it', 'nh3',\n"
        "         'css_inline', 'dkim', 'dns', 'rich'}\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & heavy))\n"
    )
    env = {**os.environ, "FEEDKIT_SECRET": "status-test-secret-long"}
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert completed.stdout.splitlines()[-1] == "[]"


def test_lazy_command_summaries_match_the_commands() -> None:
    """The summaries `--help` shows without importing a command are that command's own."""
    from feedkit.cli.main import FeedkitGroup, main  # noqa: PLC0415

    for name, (_, summary) in FeedkitGroup.lazy_commands.items():
        command = main.get_command(_context(), name)
        assert command is not None
        assert command.get_short_help_str(limit=200) == summary


def _context() -> click.Context:
    import click  # noqa: PLC0415

    from feedkit.cli.main import main  # noqa: PLC0415

    return click.Context(main)


def test_init_says_how_to_go_on_and_its_advice_works(tmp_path: Path) -> None:
    """`init` ends with one way on (cd into the site, then the build command as it can be run from
    there); following it builds the sample review, dated when the site was made."""
    result = feedkit(tmp_path, "init", "mysite")
    assert result.returncode == 0, result.stderr
    command = f"{sys.executable} -m feedkit.cli"
    assert result.stdout.splitlines()[-1] == (
        f"Next: cd mysite, edit config.toml, then run: {command} build"
    )
    built = feedkit(tmp_path / "mysite", "build")
    assert built.stdout.startswith("Built: 1 review published"), built.stdout
    sample = (tmp_path / "mysite" / "content" / "welcome-to-feedkit.md").read_text(
        encoding="utf-8"
    )
    date_line = next(line for line in sample.splitlines() if line.startswith("date: "))
    written = datetime.fromisoformat(date_line.removeprefix("date: "))
    assert abs(datetime.now(UTC) - written) < timedelta(minutes=5)


def test_a_new_sites_first_digest_holds_the_sample_review(tmp_path: Path) -> None:
    """init, new, build, digest preview: the preview holds the sample review (it is new)."""
    assert feedkit(tmp_path, "init", "mysite").returncode == 0
    site = tmp_path / "mysite"
    assert feedkit(site, "new", "Brief Encounter Blu-ray").returncode == 0
    assert feedkit(site, "build").returncode == 0
    shown = feedkit(site, "digest", "preview")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "Preview of the next digest (1 review):"
    html = (site / ".feedkit" / "preview" / "digest.html").read_text(encoding="utf-8")
    assert "Welcome to feedkit" in html
    assert "Brief Encounter" not in html  # a draft


OLD_REVIEWS = {
    "a.md": "---\ntitle: Alphaville DVD\ndate: 2020-03-01\n---\nFirst.\n",
    "b.md": "---\ntitle: Brazil Blu-ray\ndate: 2020-04-01\n---\nSecond.\n",
}
SENDER = '[digest]\nfrom_address = "digest@reviews.example.org"\n'
NOTHING_NEW = "no review published in the last 7 days (lookback_days)"


def test_with_nothing_new_the_preview_names_the_window_and_shows_the_latest(
    tmp_path: Path,
) -> None:
    """Reviews older than lookback_days: the preview says which window held nothing, then
    shows the latest reviews instead of writing nothing."""
    write_site(tmp_path, OLD_REVIEWS, SENDER)
    shown = feedkit(tmp_path, "digest", "preview")
    assert shown.returncode == 0, shown.stderr
    first = shown.stdout.splitlines()[0]
    assert first == f"Nothing new ({NOTHING_NEW}): the preview shows the latest 2 reviews."
    html = (tmp_path / ".feedkit" / "preview" / "digest.html").read_text(encoding="utf-8")
    assert "Alphaville DVD" in html
    assert "Brazil Blu-ray" in html


def test_with_nothing_new_a_test_send_sends_the_latest_and_names_its_file(
    tmp_path: Path,
) -> None:
    """`send --test` with the file transport says what it sent and which .eml holds it."""
    write_site(tmp_path, OLD_REVIEWS, SENDER)
    sent = feedkit(tmp_path, "digest", "send", "--test", "editor@example.org")
    assert sent.returncode == 0, sent.stderr
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    assert sent.stdout.splitlines() == [
        f"Wrote a test of the latest 2 reviews ({NOTHING_NEW}) for editor@example.org"
        f" to outbox/{eml.name}.",
        "Nothing was recorded.",
    ]
    assert "Alphaville DVD" in eml.read_text(encoding="utf-8")


def test_a_preview_with_nothing_to_show_removes_the_one_before(tmp_path: Path) -> None:
    """Once no review is published any more, an earlier preview is removed, not left to
    mislead."""
    write_site(tmp_path, OLD_REVIEWS, SENDER)
    assert feedkit(tmp_path, "digest", "preview").returncode == 0
    folder = tmp_path / ".feedkit" / "preview"
    assert sorted(path.name for path in folder.iterdir()) == ["digest.html", "digest.txt"]
    for review in (tmp_path / "content").glob("*.md"):
        review.unlink()
    shown = feedkit(tmp_path, "digest", "preview")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "No review is published yet: no preview written.\n"
    assert not (folder / "digest.html").exists()
    assert not (folder / "digest.txt").exists()
