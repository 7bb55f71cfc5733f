"""`feedkit status`: the service's health, from a terminal."""

from __future__ import annotations

import json

import click

from feedkit.cli.main import config_from, config_option
from feedkit.errors import FeedkitError


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
