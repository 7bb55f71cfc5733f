"""`feedkit digest …` and `feedkit subscribers …`: the newsletter's commands.

Loaded by `feedkit.cli` only when one of them runs; they call `feedkit.newsletter` and print the result.
"""

from __future__ import annotations

import csv
import webbrowser
from typing import TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from feedkit import newsletter
from feedkit.cli import config_from, shown
from feedkit.config import Config
from feedkit.delivery import check_reports
from feedkit.errors import FeedkitError
from feedkit.mail import open_transport


@click.group()
def digest() -> None:
    """Preview, test, send and follow the e-mail digest."""


@digest.command()
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML preview in a browser.")
@click.pass_context
def preview(ctx: click.Context, open_browser: bool) -> None:
    """Write the next digest as HTML and text files, and print where they are."""
    config = config_from(ctx)
    html_path, text_path, count = newsletter.preview(config)
    if not count:
        click.echo("Nothing new since the last digest: no preview written.")
        return
    click.echo(f"Preview of the next digest ({count} reviews):")
    click.echo(f"  HTML: {shown(html_path)}")
    click.echo(f"  text: {shown(text_path)}")
    if open_browser:
        webbrowser.open(html_path.resolve().as_uri())


@digest.command()
@click.option("--test", "test_address", metavar="ADDRESS", help="Send to this address only; nothing is recorded.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent, and send nothing.")
@click.pass_context
def send(ctx: click.Context, test_address: str | None, yes: bool, dry_run: bool) -> None:
    """Send what is new to every subscriber (finishing any interrupted digest first)."""
    config = config_from(ctx)
    if test_address:
        message_id = newsletter.send_test(config, test_address, open_transport(config))
        click.echo(f"Sent a test of the next digest to {test_address} ({message_id}); nothing was recorded.")
        return
    plan = newsletter.plan_send(config)
    _print_plan(plan)
    if dry_run or (not plan.reviews and not plan.unfinished):
        return
    if not yes:
        click.confirm("Send it now?", abort=True)
    _run_send(config, create=True, new_recipients=plan.recipients if plan.reviews else 0)


@digest.command()
@click.pass_context
def resume(ctx: click.Context) -> None:
    """Finish interrupted digests: send only what is still pending."""
    config = config_from(ctx)
    if not newsletter.pending_count(config):
        click.echo("Nothing to resume: every digest is finished.")
        return
    _run_send(config, create=False, new_recipients=0)


@digest.command(name="status")
@click.option("--limit", default=10, show_default=True, help="How many recent digests to show.")
@click.pass_context
def digest_status(ctx: click.Context, limit: int) -> None:
    """The recent digests: sent, pending and failed per digest, with the failures' reasons."""
    statuses = newsletter.status(config_from(ctx), limit)
    if not statuses:
        click.echo("No digest has been sent yet.")
    for item in statuses:
        counts = ", ".join(f"{item.counts.get(name, 0)} {name}" for name in ("sent", "pending", "failed", "skipped"))
        click.echo(f'#{item.id} {item.created_at} "{item.subject}" ({item.reviews} reviews): {counts}')
        for address, error in item.errors:
            click.echo(f"    {address}: {error}")


def _print_plan(plan: newsletter.SendPlan) -> None:
    if plan.unfinished:
        click.echo(f"Unfinished digests to resume first: {', '.join(f'#{number}' for number in plan.unfinished)}")
    if plan.reviews:
        click.echo(f'Subject: "{plan.subject}"; {plan.reviews} reviews; {plan.recipients} subscribers.')
    else:
        click.echo("Nothing new since the last digest: no new digest to send.")


def _run_send(config: Config, *, create: bool, new_recipients: int) -> None:
    """Send with a progress bar; one summary line per digest at the end."""
    total = newsletter.pending_count(config) + new_recipients
    # The bar goes to stderr and only to a terminal: piped output stays the summary lines alone.
    console = Console(stderr=True)
    columns = (TextColumn("Sending"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("send", total=total)
        reports = newsletter.send(
            config, lambda: open_transport(config), on_result=lambda _status: progress.advance(task), create=create
        )
    if not reports:
        click.echo("Nothing new since the last digest: nothing sent.")
    for report in reports:
        click.echo(f"Sent {report.summary()}")
    check_reports(reports)


@click.group()
def subscribers() -> None:
    """Add, remove, list, import and export newsletter subscribers."""


@subscribers.command(name="add")
@click.argument("address")
@click.option("--name", default="", help="The subscriber's name.")
@click.pass_context
def subscribers_add(ctx: click.Context, address: str, name: str) -> None:
    """Subscribe ADDRESS."""
    added = newsletter.add_subscriber(config_from(ctx), address, name)
    click.echo(f"Subscribed {address}." if added else f"{address} was already subscribed.")


@subscribers.command(name="remove")
@click.argument("address")
@click.pass_context
def subscribers_remove(ctx: click.Context, address: str) -> None:
    """Unsubscribe ADDRESS (it is kept as unsubscribed, so no import brings it back)."""
    removed = newsletter.remove_subscriber(config_from(ctx), address)
    click.echo(f"Unsubscribed {address}." if removed else f"{address} was not subscribed.")


@subscribers.command(name="list")
@click.option("--status", type=click.Choice(["subscribed", "unsubscribed"]), help="Only these.")
@click.pass_context
def subscribers_list(ctx: click.Context, status: str | None) -> None:
    """List subscribers with their status."""
    found = newsletter.list_subscribers(config_from(ctx), status)
    for subscriber in found:
        click.echo(f"{subscriber.address}\t{subscriber.status}\t{subscriber.name}")
    click.echo(f"{len(found)} subscribers", err=True)


@subscribers.command(name="import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.pass_context
def subscribers_import(ctx: click.Context, csv_file: TextIO) -> None:
    """Import a CSV of email[,name] rows; unsubscribed addresses are never re-subscribed."""
    try:
        report = newsletter.import_subscribers(config_from(ctx), csv.reader(csv_file))
    except UnicodeDecodeError:
        raise FeedkitError(
            f"{csv_file.name}: is not UTF-8 text", 'save it as UTF-8 ("CSV UTF-8") and import again'
        ) from None
    click.echo(f"Imported: {report.summary()}")
    for address in report.invalid:
        click.echo(f"invalid: {address!r}", err=True)


@subscribers.command(name="export")
@click.argument("csv_file", type=click.File("w", encoding="utf-8"), default="-")
@click.pass_context
def subscribers_export(ctx: click.Context, csv_file: TextIO) -> None:
    """Write every subscriber, with status and dates, as CSV (to standard output by default)."""
    count = newsletter.export_subscribers(config_from(ctx), csv_file)
    click.echo(f"Exported {count} subscribers.", err=True)
