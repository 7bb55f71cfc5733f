"""`feedkit status`, `feedkit backup` and `feedkit restore`: looking after the service and its
state database from a terminal (or a systemd timer)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from feedkit.cli.main import config_from, config_option, shown
from feedkit.errors import FeedkitError

FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print it as /healthz answers it.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the service's health.

    The same as /healthz: the heartbeat, each job's last run, the newest digest, deliveries still
    pending and who holds the send lock. Exits 1 when anything is wrong, naming it.
    """
    from feedkit import operations  # noqa: PLC0415 - commands import what they use

    health = operations.health(config_from(ctx))
    if as_json:
        click.echo(json.dumps(health.as_json(), indent=2))
    else:
        for line in health.lines():
            click.echo(line)
    if not health.healthy:
        raise FeedkitError(
            f"the service is unhealthy: {'; '.join(health.problems)}",
            "its log says more",
        )


@click.command()
@config_option
@click.argument("file", type=FILE)
@click.pass_context
def backup(ctx: click.Context, file: Path) -> None:
    """Copy the state database to FILE, safely.

    SQLite's online backup: consistent even while a digest is being sent. FILE is replaced only
    once the copy is whole and checked; only its owner may read it.
    """
    from feedkit import operations  # noqa: PLC0415

    config = config_from(ctx)
    size = operations.backup(config, file)
    source, kilobytes = shown(config.database_path), max(1, round(size / 1024))
    click.echo(f"Backed up {source} to {shown(file)} ({kilobytes} KB, integrity checked).")


@click.command()
@config_option
@click.argument("file", type=FILE)
@click.option(
    "--force", is_flag=True, help="Replace a database newer than the backup all the same."
)
@click.pass_context
def restore(ctx: click.Context, file: Path, force: bool) -> None:
    """Put a backup in place of the state database.

    A database with migrations the backup lacks is newer than it, and is refused without
    --force. What was there is first copied aside; stop the service before restoring.
    """
    from feedkit import operations  # noqa: PLC0415

    config = config_from(ctx)
    kept = operations.restore(config, file, force=force)
    click.echo(f"Restored {shown(config.database_path)} from {shown(file)}.")
    if kept is not None:
        click.echo(f"The database it replaced is kept as {shown(kept)}.")
