"""The `feedkit` command: parses arguments, calls `pipeline`, prints what happened.

Exit codes: 0 success; 1 any other user error; 2 bad usage or configuration;
3 content problems (`check`, or `build --strict`); 4 output cannot be written; 5 state database
error (or a lost one); 6 another send holds the lock; 7 a send stopped early or delivered nothing.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import click

from feedkit import __version__, pipeline, scaffold
from feedkit.config import Config, load_config
from feedkit.errors import ContentError, FeedkitError
from feedkit.model import Problem
from feedkit.state import create_new_state


class _FeedkitGroup(click.Group):
    """Turns every FeedkitError into one line on stderr and its exit code: no tracebacks.

    The newsletter's command groups are imported only when used, so `feedkit build` starts quickly.
    """

    lazy_commands: ClassVar[dict[str, str]] = {
        "digest": "feedkit.cli_newsletter:digest",
        "subscribers": "feedkit.cli_newsletter:subscribers",
        "run": "feedkit.cli_service:run",
        "schedule": "feedkit.cli_service:schedule",
        "serve": "feedkit.cli_service:serve",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedkitError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_FeedkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    help="The site's configuration file.",
)
@click.option(
    "--new-state",
    is_flag=True,
    help="Accept starting a blank state database where an earlier one was lost.",
)
@click.version_option(__version__, prog_name="feedkit")
@click.pass_context
def main(ctx: click.Context, config_path: Path, new_state: bool) -> None:
    """Turn a folder of film reviews into RSS, Atom and JSON feeds."""
    ctx.obj = RootOptions(config_path, new_state=new_state)


@dataclass(frozen=True, slots=True)
class RootOptions:
    """What the options before the command name say."""

    config_path: Path
    new_state: bool = False


def config_from(ctx: click.Context) -> Config:
    options: RootOptions = ctx.find_root().obj
    config = load_config(options.config_path)
    if options.new_state:
        create_new_state(config)
    return config


@main.command()
@click.option("--strict", is_flag=True, help="Fail, writing nothing, if any review file has a problem.")
@click.pass_context
def build(ctx: click.Context, strict: bool) -> None:
    """Build the feeds from the content folder (only what changed is rewritten)."""
    config = config_from(ctx)
    report = pipeline.build(config, strict=strict)
    _print_problems(report.problems)
    click.echo(f"Built: {report.summary(shown(config.output_dir))}")


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check the configuration and every review without writing anything (exit 3 on any problem)."""
    config = config_from(ctx)
    from feedkit.cron import check_schedule  # noqa: PLC0415 - APScheduler is slow to import; only check needs it

    check_schedule(config)
    report = pipeline.check(config)
    _print_problems(report.problems)
    counts = f"{report.published} published, {report.drafts} drafts, {report.scheduled} scheduled"
    if report.problems:
        raise ContentError(f"{len(report.problems)} problem(s) found ({counts})", "fix the files named above")
    click.echo(f"OK: {config.path.name} is valid; {counts}, no problems")


@main.command()
@click.argument("title")
@click.option("--slug", help="The URL slug (default: from the title).")
@click.option("--publish", is_flag=True, help="Publish at once instead of creating a draft.")
@click.pass_context
def new(ctx: click.Context, title: str, slug: str | None, publish: bool) -> None:
    """Create a new review file with its front matter filled in."""
    config = config_from(ctx)
    path = scaffold.new_review(config, title, slug=slug, draft=not publish)
    status = "published at the next build" if publish else "a draft: remove 'draft: true' to publish it"
    click.echo(f"Created {shown(path)} ({status})")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Start a new site in DIRECTORY: config.toml, templates and one sample review."""
    created = scaffold.init_site(directory)
    click.echo(f"Created a feedkit site in {directory} ({len(created)} files).")
    click.echo(f"Next: edit {directory / 'config.toml'}, then run: feedkit --config {directory / 'config.toml'} build")


def _print_problems(problems: tuple[Problem, ...]) -> None:
    for problem in problems:
        label = "skipped" if problem.skipped else "warning"
        click.echo(f"{label}: {problem}", err=True)


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the working folder where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
