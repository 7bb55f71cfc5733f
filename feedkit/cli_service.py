"""`feedkit run` and `feedkit schedule`: the service's commands, loaded only when used."""

from __future__ import annotations

import logging
import sys

import click

from feedkit import scheduler
from feedkit.cli import config_from


@click.command()
@click.option("--once", is_flag=True, help="Run every job once now and exit (for cron or systemd timers).")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Run the service: build and send on the [schedule] in config.toml until stopped.

    SIGTERM or Ctrl-C stops it cleanly (the message in flight is finished); SIGHUP re-reads config.toml.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr, force=True
    )
    config = config_from(ctx)
    if once:
        scheduler.run_once(config)
        return
    scheduler.run_service(config.path)


@click.command()
@click.option("--count", default=5, show_default=True, help="How many upcoming runs to show per job.")
@click.pass_context
def schedule(ctx: click.Context, count: int) -> None:
    """Show when each job runs next, in the schedule's time zone."""
    config = config_from(ctx)
    zone = config.schedule.timezone or config.site.timezone
    for name, moments in scheduler.upcoming(config, count).items():
        expression = getattr(config.schedule, name)
        click.echo(f"{name}: {expression} ({zone})")
        for moment in moments:
            click.echo(f"  {moment:%a %d %b %Y %H:%M %Z}")
