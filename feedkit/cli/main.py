"""The `feedkit` command: parses arguments, calls a use case, prints what happened.

Commands import what they need when they run, so `feedkit --help` starts in a blink.
Exit codes: 0 success; 1 any other user error; 2 bad usage or configuration;
3 content problems (`check`, or `build --strict`); 4 output cannot be written; 5 state database
error (or a lost one); 6 another send holds the lock; 7 a send stopped early or delivered nothing.
`bounces ingest` reading one message on standard input exits 75 (EX_TEMPFAIL) on any failure, so
the mail system that piped it keeps the message and tries again.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from feedkit import __version__
from feedkit.errors import ConfigError, FeedkitError

if TYPE_CHECKING:
    from feedkit.config import Config
    from feedkit.model import Problem

CONFIG_NAME = "config.toml"
PORT = click.IntRange(1, 65535)
Decorated = TypeVar("Decorated", bound=Callable[..., Any])


class OneLineGroup(click.Group):
    """A group whose unknown command is one usage error with a suggestion."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise click.UsageError(_unknown_command(name, self.list_commands(ctx)), ctx)
        return super().resolve_command(ctx, args)


class FeedkitGroup(OneLineGroup):
    """Every error as one `error:` line and its exit code: no tracebacks, no multi-line usage.

    Command modules are imported only when their command runs; `--help` reads their summaries
    from the table below.
    """

    lazy_commands: ClassVar[dict[str, tuple[str, str]]] = {
        "build": ("feedkit.cli.site:build", "Build the feeds from the content folder."),
        "check": ("feedkit.cli.site:check", "Check the configuration and every review."),
        "new": ("feedkit.cli.site:new", "Create a new review file."),
        "init": ("feedkit.cli.site:init", "Start a new site in DIRECTORY."),
        "digest": ("feedkit.cli.newsletter:digest", "Preview, test, send and follow the digest."),
        "subscribers": (
            "feedkit.cli.newsletter:subscribers",
            "Add, remove, list, import and export subscribers.",
        ),
        "run": ("feedkit.cli.service:run", "Run the service: build and send on the schedule."),
        "schedule": ("feedkit.cli.service:schedule", "Show when each job runs next."),
        "serve": ("feedkit.cli.web:serve", "Serve feeds, unsubscribe and the editors' page."),
        "status": ("feedkit.cli.operations:status", "Show the service's health."),
        "backup": ("feedkit.cli.operations:backup", "Copy the state database to FILE, safely."),
        "restore": (
            "feedkit.cli.operations:restore",
            "Put a backup in place of the state database.",
        ),
        "bounces": (
            "feedkit.cli.bounces:bounces",
            "Read bounces and complaints; list those kept.",
        ),
        "doctor": (
            "feedkit.cli.doctor:doctor",
            "Check what decides whether the digest reaches inboxes.",
        ),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module, _, attribute = self.lazy_commands[cmd_name][0].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._short_help(ctx, name)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, ctx: click.Context, name: str) -> str:
        if name in self.lazy_commands:
            return self.lazy_commands[name][1]
        command = super().get_command(ctx, name)
        return command.get_short_help_str(limit=60) if command else ""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedkitError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)

    # click types main() with overloads on standalone_mode; this one always exits itself.
    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, **extra: Any
    ) -> Any:
        """Click's own error display is several lines of usage; feedkit's is one line."""
        extra.pop("standalone_mode", None)
        extra.setdefault("prog_name", "feedkit")  # also under `python -m feedkit.cli`
        try:
            code = super().main(args, standalone_mode=False, **extra)
        except click.UsageError as error:
            click.echo(f"error: {_usage_message(error)}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except click.ClickException as error:
            click.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        # Without standalone mode click returns an exit code instead of exiting with it.
        sys.exit(code if isinstance(code, int) else 0)


def _unknown_command(name: str, known: list[str]) -> str:
    guesses = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{guesses[0]}'?" if guesses else "see --help"
    return f"no such command '{name}'; {hint}"


def _usage_message(error: click.UsageError) -> str:
    message = error.format_message().rstrip(".")
    command = error.ctx.command_path if error.ctx else "feedkit"
    if message.startswith("no such command"):
        return message.replace("see --help", f"see '{command} --help'")
    return f"{message[:1].lower()}{message[1:]} (see '{command} --help')"


# Options live in the context's meta, which every context of one invocation shares (plain keys,
# not a class of this module: `python -m feedkit.cli` loads this module twice).
CONFIG_KEY = "feedkit.config_path"
NEW_STATE_KEY = "feedkit.new_state"


def _remember_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.meta[CONFIG_KEY] = value


def config_option(command: Decorated) -> Decorated:
    """`--config PATH`, accepted after a command's name as well as before it."""
    option = click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        is_eager=True,
        callback=_remember_config,
        help=f"The site's configuration file (default: {CONFIG_NAME} here or in a parent folder).",
    )
    return option(command)


@click.group(
    cls=FeedkitGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@config_option
@click.option(
    "--new-state",
    is_flag=True,
    help="Accept starting a blank state database where an earlier one was lost.",
)
@click.version_option(__version__, prog_name="feedkit")
@click.pass_context
def main(ctx: click.Context, new_state: bool) -> None:
    """Turn a folder of film reviews into RSS, Atom and JSON feeds and an e-mail digest."""
    ctx.meta[NEW_STATE_KEY] = new_state
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def config_from(ctx: click.Context) -> Config:
    """The site's validated configuration, found as the options say."""
    from feedkit.config import load_config  # noqa: PLC0415 - commands import what they use

    config = load_config(ctx.meta.get(CONFIG_KEY) or find_config(Path.cwd()))
    if ctx.meta.get(NEW_STATE_KEY):
        from feedkit.operations import accept_new_state  # noqa: PLC0415

        accept_new_state(config)
    return config


def find_config(start: Path) -> Path:
    """config.toml in this folder or the nearest parent that has one, as git finds its folder."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return Path(os.path.relpath(candidate, start))  # as the user would write it
    raise ConfigError(
        f"no {CONFIG_NAME} in {start} or any folder above it",
        "run 'feedkit init DIR' to start a site, or pass --config PATH",
    )


def print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        label = "skipped" if problem.skipped else "warning"
        click.echo(f"{label}: {problem}", err=True)


def log_to_stderr(log_format: str = "text") -> None:
    """One line per event on stderr, as the service and the web side log; a supervisor keeps
    them. `json` writes each as a JSON object (feedkit.cli.logs lists the keys)."""
    from feedkit.cli.logs import configure_logging  # noqa: PLC0415 - only long-running commands

    configure_logging(log_format)


def print_notes(notes: Sequence[str]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the working folder where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
