"""`feedkit run`, `serve` and `schedule`: the service's commands, loaded only when used."""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading

import click
import uvicorn

from feedkit.cli.main import config_from
from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.schedule import upcoming
from feedkit.service import scheduler
from feedkit.web.app import create_app
from feedkit.web.auth import hash_password as make_hash
from feedkit.web.auth import password_problem
from feedkit.web.login import ADMIN_HASH_ENV, admin_enabled

log = logging.getLogger("feedkit")
PORT = click.IntRange(1, 65535)
ANY_ADDRESS = "use 127.0.0.1, or 0.0.0.0 for all"
OTHER_PORT = "stop it or choose another --port"
HOW_TO_GIVE_A_PASSWORD = "pipe it in as one line, or run this at a terminal"  # noqa: S105 - advice


class ListenError(FeedkitError):
    """The web side cannot listen where it was asked to: the port is taken, or not ours to take."""

    exit_code = 8


class PasswordError(FeedkitError):
    """The password given for the editors' page is refused."""

    exit_code = 2


class HostError(FeedkitError):
    """--host is not an address this machine can listen on: a bad setting."""

    exit_code = 2


@click.command()
@click.option("--once", is_flag=True, help="Run every job once now and exit (for cron or systemd timers).")
@click.option("--serve", "with_web", is_flag=True, help="Also serve the web side (as `feedkit serve`).")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="With --serve: the address to listen on.",
)
@click.option("--port", type=PORT, default=8080, show_default=True, help="With --serve: the port.")
@click.pass_context
def run(ctx: click.Context, once: bool, with_web: bool, host: str, port: int) -> None:
    """Run the service: build and send on the schedule.

    The jobs and their times are the [schedule] in config.toml; it runs until stopped.

    SIGTERM or Ctrl-C stops it cleanly (the message in flight is finished); SIGHUP re-reads config.toml.
    """
    _log_to_stderr()
    # APScheduler's own lines ("Adding job tentatively", "Added job") say nothing an operator needs.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    config = config_from(ctx)
    scheduler.check_ready(config)
    if once:
        failed = scheduler.run_once(config)
        if failed:
            raise FeedkitError(f"{' and '.join(failed)} failed (see the log above)")
        return
    # The web side is made and its port bound before the scheduler starts: a service that cannot
    # serve refuses to start, rather than running on without its web side.
    web_server = _start_web_thread(config, host, port) if with_web else None
    try:
        scheduler.run_service(config.path)
    finally:
        if web_server is not None:
            web_server.should_exit = True


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=PORT, default=8080, show_default=True, help="The port.")
@click.option(
    "--hash-password",
    is_flag=True,
    help="Read a password (12+ characters; typed twice, or one line from a pipe); print its hash.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, hash_password: bool) -> None:
    """Serve feeds, unsubscribe and the editors' page.

    Over HTTP: the feeds in public/, one-click unsubscribe and the editors' page at /admin.

    \b
    Environment:
      FEEDKIT_SECRET               signs unsubscribe links (required, 16+ characters)
      FEEDKIT_ADMIN_PASSWORD_HASH  turns on /admin; make one with --hash-password
    """
    if hash_password:
        click.echo(f"{ADMIN_HASH_ENV}='{make_hash(_read_new_password())}'")
        return
    _log_to_stderr()
    config = config_from(ctx)
    server = _web_server(config)
    listening = listen(host, port)
    url = f"http://{_url_host(host)}:{port}/"
    click.echo(f"Serving {config.site.title} at {url} ({_editors_page()}); Ctrl-C stops.")
    server.run(sockets=[listening])


def _read_new_password() -> str:
    """Typed twice, unseen, at a terminal (asked again while too short); one line from a pipe."""
    if sys.stdin.isatty():
        password: str = click.prompt(
            "Password for the editors' page",
            hide_input=True,
            confirmation_prompt=True,
            value_proc=_long_enough,
        )
        return password
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise PasswordError("no password on standard input", HOW_TO_GIVE_A_PASSWORD)
    problem = password_problem(password)
    if problem:
        raise PasswordError(problem)
    return password


def _long_enough(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem)  # click shows it and asks again
    return password


def _editors_page() -> str:
    if admin_enabled():
        return "editors: /admin"
    return f"editors' page off: {ADMIN_HASH_ENV} is not set"


def _log_to_stderr() -> None:
    """One line per event on stderr, as the service logs; a supervisor keeps them."""
    log_format = "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(level=logging.INFO, format=log_format, stream=sys.stderr, force=True)


def _start_web_thread(config: Config, host: str, port: int) -> uvicorn.Server:
    """The web side of `run --serve`, checked and listening before this returns."""
    server = _web_server(config)
    listening = listen(host, port)
    threading.Thread(target=server.run, args=([listening],), name="web", daemon=True).start()
    log.info("web: serving at http://%s:%d/ (%s)", _url_host(host), port, _editors_page())
    return server


def _web_server(config: Config) -> uvicorn.Server:
    """The server, its app made now: a missing secret or a bad password hash stops here."""
    # X-Forwarded-For is believed only from the proxies config.toml names: uvicorn's default trusts
    # 127.0.0.1, and any local client could then pose as any address (and dodge the login limit).
    trusted = list(config.web.trusted_proxies)
    settings = uvicorn.Config(
        create_app(config),
        log_config=None,  # uvicorn's own lines (warnings and worse) go through our log format
        log_level="warning",
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
    return uvicorn.Server(settings)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port; why not, as a FeedkitError, when it cannot."""
    where = f"{_url_host(host)}:{port}"
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        return socket.create_server(address, family=family)
    except socket.gaierror:
        unknown = f"--host {host}: not an address, nor a name this machine can resolve"
        raise HostError(unknown, ANY_ADDRESS) from None
    except OSError as error:
        raise _listen_error(error, host, where) from None


def _listen_error(error: OSError, host: str, where: str) -> FeedkitError:
    cannot = f"cannot listen on {where}"
    if error.errno == errno.EADDRINUSE:
        return ListenError(f"{cannot}: another program is using it", OTHER_PORT)
    if error.errno == errno.EACCES:
        return ListenError(f"{cannot}: permission denied", "ports below 1024 need privileges")
    if error.errno == errno.EADDRNOTAVAIL:
        return HostError(f"--host {host}: not an address of this machine", ANY_ADDRESS)
    return ListenError(f"{cannot}: {error.strerror or error}")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@click.command()
@click.option("--count", default=5, show_default=True, help="How many upcoming runs to show per job.")
@click.pass_context
def schedule(ctx: click.Context, count: int) -> None:
    """Show when each job runs next.

    Times are in the schedule's time zone.
    """
    config = config_from(ctx)
    zone = config.schedule.timezone or config.site.timezone
    for name, moments in upcoming(config, count).items():
        expression = getattr(config.schedule, name)
        click.echo(f"{name}: {expression} ({zone})")
        for moment in moments:
            click.echo(f"  {moment:%a %d %b %Y %H:%M %Z}")
