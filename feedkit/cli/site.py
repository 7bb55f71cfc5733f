"""`feedkit build`, `check`, `new` and `init`: the site's own commands.

Each parses its options, calls a use case, and prints the result.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from feedkit.cli.main import config_from, config_option, print_notes, print_problems, shown
from feedkit.errors import ContentError
from feedkit.words import plural


@click.command()
@config_option
@click.option("--strict", is_flag=True, help="Fail, writing nothing, if any review has a problem.")
@click.pass_context
def build(ctx: click.Context, strict: bool) -> None:
    """Build the feeds from the content folder.

    Only what changed is rewritten.
    """
    from feedkit import pipeline  # noqa: PLC0415

    config = config_from(ctx)
    report = pipeline.build(config, strict=strict)
    print_problems(report.problems)
    print_notes(report.notes)
    click.echo(f"Built: {report.summary(shown(config.output_dir))}")


@click.command()
@config_option
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check the configuration and every review.

    Nothing is written; any problem makes the exit code 3.
    """
    from feedkit import pipeline  # noqa: PLC0415
    from feedkit.schedule import check_schedule  # noqa: PLC0415

    config = config_from(ctx)
    check_schedule(config)
    report = pipeline.check(config)
    print_problems(report.problems)
    print_notes(report.notes)
    drafts = plural(report.drafts, "draft")
    counts = f"{report.published} published, {drafts}, {report.scheduled} scheduled"
    if report.problems:
        found = plural(len(report.problems), "problem")
        raise ContentError(f"{found} found ({counts})", "fix the files named above")
    click.echo(f"OK: {config.path.name} is valid; {counts}, no problems")


@click.command()
@config_option
@click.argument("title")
@click.option("--slug", help="The URL slug (default: from the title).")
@click.option("--publish", is_flag=True, help="Publish at once instead of creating a draft.")
@click.pass_context
def new(ctx: click.Context, title: str, slug: str | None, publish: bool) -> None:
    """Create a new review file.

    Its front matter is filled in; it is a draft unless --publish.
    """
    from feedkit import scaffold  # noqa: PLC0415

    config = config_from(ctx)
    path = scaffold.new_review(config, title, slug=slug, draft=not publish)
    status = (
        "published at the next build" if publish else "a draft: remove 'draft: true' to publish it"
    )
    click.echo(f"Created {shown(path)} ({status})")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Start a new site in DIRECTORY.

    It gets a config.toml, the templates and one sample review.
    """
    from feedkit import scaffold  # noqa: PLC0415

    created = scaffold.init_site(directory)
    click.echo(f"Created a feedkit site in {directory} ({len(created)} files).")
    command = feedkit_command(directory)
    click.echo(f"Next: cd {directory}, edit config.toml, then run: {command} build")


def feedkit_command(directory: Path) -> str:
    """How to run this very feedkit from inside `directory`: `feedkit` if the shell finds it."""
    running = Path(sys.argv[0])
    if running.name != "feedkit":
        return f"{sys.executable} -m feedkit.cli"
    on_path = shutil.which("feedkit")
    if on_path and Path(on_path).resolve() == running.resolve():
        return "feedkit"
    return os.path.relpath(running.absolute(), directory.absolute())
