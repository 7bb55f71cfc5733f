"""`feedkit run` and `feedkit schedule`: the service's commands, loaded only when used."""

from __future__ import annotations

import logging

import click

from feedkit.cli.logs import log_format_option
from feedkit.cli.main import PORT, config_from, config_option, log_to_stderr
from feedkit.errors import FeedkitError


@click.command()
@config_option
@click.option(
    "--once", is_flag=True, help="Run every job once now and exit (for cron or systemd timers)."
)
@click.option(
    "--serve", "with_web", is_flag=True, help="Also serve the web side (as `feedkit serve`)."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="With --serve: the address to listen on.",
)
@click.option("--port", type=PORT, default=8080, show_default=True, help="With --serve: the port.")
@log_format_option
@click.pass_context
def run(
    ctx: click.Context, *, once: bool, with_web: bool, host: str, port: int, log_format: str
) -> None:
    """Run the service: build and send on the schedule.

    The jobs and their times are the [schedule] in config.toml; it runs until stopped.

    SIGTERM or Ctrl-C stops it cleanly (the message in flight is finished); SIGHUP re-reads
    config.toml.
    """
    from feedkit.cli.web import start_web_thread  # noqa: PLC0415
    from feedkit.service import scheduler  # noqa: PLC0415

    log_to_stderr(log_format)
    # APScheduler's own lines ("Adding job tentatively", "Added job") and watchfiles' ("1 change
    # detected") say nothing an operator needs: feedkit logs what they led to.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    config = config_from(ctx)
    scheduler.check_ready(config)
    if once:
        failed = scheduler.run_once(config)
        if failed:
            raise FeedkitError(f"{' and '.join(failed)} failed (see the log above)")
        return
    # The web side is made and its port bound before the scheduler starts: a service that cannot
    # serve refuses to start, rather than running on without its web side.
    web_server = start_web_thread(config, host, port) if with_web else None
    try:
        scheduler.run_service(config.path)
    finally:
        if web_server is not None:
            web_server.should_exit = True


@click.command()
@config_option
@click.option(
    "--count", default=5, show_default=True, help="How many upcoming runs to show per job."
)
@click.pass_context
def schedule(ctx: click.Context, count: int) -> None:
    """Show when each job runs next.

    Times are in the schedule's time zone.
    """
    from feedkit.schedule import upcoming  # noqa: PLC0415

    config = config_from(ctx)
    zone = config.schedule.timezone or config.site.timezone
    for name, moments in upcoming(config, count).items():
        expression = getattr(config.schedule, name)
        click.echo(f"{name}: {expression} ({zone})")
        for moment in moments:
            click.echo(f"  {moment:%a %d %b %Y %H:%M %Z}")
