"""`feedkit run` and `feedkit schedule`: the service's commands, loaded only when used."""

from __future__ import annotations

import logging
import sys
import threading

import click
import uvicorn

from feedkit.cli.main import config_from
from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.service import scheduler
from feedkit.web import ADMIN_HASH_ENV, create_app
from feedkit.weblogin import hash_password as make_hash


@click.command()
@click.option("--once", is_flag=True, help="Run every job once now and exit (for cron or systemd timers).")
@click.option("--serve", "with_web", is_flag=True, help="Also serve the web side (as `feedkit serve`).")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: the address to listen on.")
@click.option("--port", default=8080, show_default=True, help="With --serve: the port.")
@click.pass_context
def run(ctx: click.Context, once: bool, with_web: bool, host: str, port: int) -> None:
    """Run the service: build and send on the schedule.

    The jobs and their times are the [schedule] in config.toml; it runs until stopped.

    SIGTERM or Ctrl-C stops it cleanly (the message in flight is finished); SIGHUP re-reads config.toml.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr, force=True
    )
    # APScheduler's own lines ("Adding job tentatively", "Added job") say nothing an operator needs.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    config = config_from(ctx)
    scheduler.check_ready(config)
    if once:
        failed = scheduler.run_once(config)
        if failed:
            raise FeedkitError(f"{' and '.join(failed)} failed (see the log above)")
        return
    web_server = _web_server(config, host, port) if with_web else None
    if web_server is not None:
        threading.Thread(target=web_server.run, name="web", daemon=True).start()
    try:
        scheduler.run_service(config.path)
    finally:
        if web_server is not None:
            web_server.should_exit = True


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8080, show_default=True, help="The port.")
@click.option("--hash-password", is_flag=True, help="Read a password and print the hash for the editors' page.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, hash_password: bool) -> None:
    """Serve feeds, unsubscribe and the editors' page.

    Over HTTP: the feeds in public/, one-click unsubscribe and the editors' page at /admin.
    """
    if hash_password:
        password = click.prompt("Password for the editors' page", hide_input=True, confirmation_prompt=True)
        click.echo(f"{ADMIN_HASH_ENV}='{make_hash(password)}'")
        return
    config = config_from(ctx)
    click.echo(f"Serving {config.site.title} at http://{host}:{port}/ (editors: /admin); Ctrl-C stops.")
    _web_server(config, host, port).run()


def _web_server(config: Config, host: str, port: int) -> uvicorn.Server:
    # X-Forwarded-For is believed only from the proxies config.toml names: uvicorn's default trusts
    # 127.0.0.1, and any local client could then pose as any address (and dodge the login limit).
    trusted = list(config.web.trusted_proxies)
    settings = uvicorn.Config(
        create_app(config),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
    return uvicorn.Server(settings)


@click.command()
@click.option("--count", default=5, show_default=True, help="How many upcoming runs to show per job.")
@click.pass_context
def schedule(ctx: click.Context, count: int) -> None:
    """Show when each job runs next.

    Times are in the schedule's time zone.
    """
    config = config_from(ctx)
    zone = config.schedule.timezone or config.site.timezone
    for name, moments in scheduler.upcoming(config, count).items():
        expression = getattr(config.schedule, name)
        click.echo(f"{name}: {expression} ({zone})")
        for moment in moments:
            click.echo(f"  {moment:%a %d %b %Y %H:%M %Z}")
