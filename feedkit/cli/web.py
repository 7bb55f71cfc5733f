"""`feedkit serve`: checks its settings, binds its port, and only then says it is serving.

Also the web side of `feedkit run --serve`. uvicorn and the app are imported when they run.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
from typing import TYPE_CHECKING

import click

from feedkit.cli.logs import log_format_option
from feedkit.cli.main import PORT, config_from, config_option, log_to_stderr
from feedkit.config import Config
from feedkit.errors import FeedkitError, ServeError, UsageError

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("feedkit")


ANY_ADDRESS = "use 127.0.0.1, or 0.0.0.0 for all"


OTHER_PORT = "stop it or choose another --port"


HOW_TO_GIVE_A_PASSWORD = "pipe it in as one line, or run this at a terminal"  # noqa: S105 - advice


@click.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=PORT, default=8080, show_default=True, help="The port.")
@click.option(
    "--hash-password",
    is_flag=True,
    help="Read a password (12+ characters; typed twice, or one line from a pipe); print its hash.",
)
@log_format_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, hash_password: bool, log_format: str) -> None:
    """Serve feeds, unsubscribe and the editors' page.

    Over HTTP: the feeds in public/, one-click unsubscribe and the editors' page at /admin.

    \b
    Environment:
      FEEDKIT_SECRET               signs unsubscribe links (required, 16+ characters)
      FEEDKIT_ADMIN_PASSWORD_HASH  turns on /admin; make one with --hash-password
    """
    from feedkit.web.login import ADMIN_HASH_ENV  # noqa: PLC0415 - the web side, when it runs

    if hash_password:
        from feedkit.web.auth import hash_password as make_hash  # noqa: PLC0415

        click.echo(f"{ADMIN_HASH_ENV}='{make_hash(_read_new_password())}'")
        return
    log_to_stderr(log_format)
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
        raise UsageError("no password on standard input", HOW_TO_GIVE_A_PASSWORD)
    from feedkit.web.auth import password_problem  # noqa: PLC0415

    problem = password_problem(password)
    if problem:
        raise UsageError(problem)
    return password


def _long_enough(password: str) -> str:
    from feedkit.web.auth import password_problem  # noqa: PLC0415

    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem)  # click shows it and asks again
    return password


def _editors_page() -> str:
    from feedkit.web.login import ADMIN_HASH_ENV, admin_enabled  # noqa: PLC0415

    if admin_enabled():
        return "editors: /admin"
    return f"editors' page off: {ADMIN_HASH_ENV} is not set"


def start_web_thread(config: Config, host: str, port: int) -> uvicorn.Server:
    """The web side of `run --serve`, checked and listening before this returns."""
    server = _web_server(config)
    listening = listen(host, port)
    threading.Thread(target=server.run, args=([listening],), name="web", daemon=True).start()
    log.info("web: serving at http://%s:%d/ (%s)", _url_host(host), port, _editors_page())
    return server


def _web_server(config: Config) -> uvicorn.Server:
    """The server, its app made now: a missing secret or a bad password hash stops here."""
    import uvicorn  # noqa: PLC0415 - only the web side needs it

    from feedkit.web.app import create_app  # noqa: PLC0415

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
        raise UsageError(unknown, ANY_ADDRESS) from None
    except OSError as error:
        raise _listen_error(error, host, where) from None


def _listen_error(error: OSError, host: str, where: str) -> FeedkitError:
    cannot = f"cannot listen on {where}"
    if error.errno == errno.EADDRINUSE:
        return ServeError(f"{cannot}: another program is using it", OTHER_PORT)
    if error.errno == errno.EACCES:
        return ServeError(f"{cannot}: permission denied", "ports below 1024 need privileges")
    if error.errno == errno.EADDRNOTAVAIL:
        return UsageError(f"--host {host}: not an address of this machine", ANY_ADDRESS)
    return ServeError(f"{cannot}: {error.strerror or error}")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
