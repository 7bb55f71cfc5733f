"""`feedkit doctor`: one line per deliverability check, and a failing exit code if any failed."""

from __future__ import annotations

import click

from feedkit.cli.main import config_from, config_option
from feedkit.errors import FeedkitError


@click.command()
@config_option
@click.option(
    "--nameserver",
    envvar="FEEDKIT_NAMESERVER",
    metavar="HOST[:PORT]",
    help="Ask this DNS server for SPF, DKIM and DMARC (default: the system's resolvers; "
    "also $FEEDKIT_NAMESERVER).",
)
@click.pass_context
def doctor(ctx: click.Context, nameserver: str | None) -> None:
    """Check what decides whether the digest reaches inboxes.

    SPF, DKIM and DMARC in DNS, the one-click unsubscribe, the digest's size, images and links,
    the SMTP server's TLS and AUTH, and SpamAssassin's score: one line each, with a remedy.
    """
    from feedkit.doctor import run_doctor  # noqa: PLC0415 - commands import what they use
    from feedkit.mail.checks import Status  # noqa: PLC0415

    checks = run_doctor(config_from(ctx), nameserver=nameserver)
    for check in checks:
        click.echo(check.line())
    failed = [check for check in checks if check.status == Status.FAIL]
    if failed:
        raise FeedkitError(
            f"{len(failed)} of {len(checks)} checks failed", "each FAIL line says what to do"
        )
